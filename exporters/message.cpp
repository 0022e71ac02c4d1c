// The platform-neutral half of rendering: an alert's pieces as plain text, and {{field}}
// templates. The platform files escape and bound these pieces.
#include <cstdio>
#include <cstdlib>

#include "exporters/payload.h"
#include "exporters/text.h"

namespace aftershock::exporters {

namespace {

std::string format(const char* fmt, double v) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, fmt, v);
  return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::string format_price(double p) {
  if (p == 0) return "0";
  if (std::abs(p) >= 1) return format("%.2f", p);
  return format("%.4g", p);
}

std::string format_change(double pct) { return format("%+.2f", pct) + "%"; }

// "2025-01-27 14:33:05" from nanoseconds (UTC or already shifted to local time).
std::string date_time(rules::time_ns t) {
  std::string s = rules::format_rfc3339_s(t);  // 2025-01-27T14:33:05Z
  if (s.size() >= 19) {
    s[10] = ' ';
    s.resize(19);
  }
  return s;
}

std::string utc_offset_text(std::int32_t offset_s) {
  const char sign = offset_s < 0 ? '-' : '+';
  const std::int32_t a = offset_s < 0 ? -offset_s : offset_s;
  char buf[16];
  std::snprintf(buf, sizeof buf, "UTC%c%02d:%02d", sign, a / 3600, (a / 60) % 60);
  return buf;
}

std::string why_text(const rules::citation& c) {
  switch (c.how) {
    case rules::link_kind::direct:
      return "direct mention \"" + c.matched + "\"";
    case rules::link_kind::feed_symbol:
      return "tagged " + c.matched + " by the feed";
    case rules::link_kind::theme:
      return "theme " + (c.theme.empty() ? std::string("?") : c.theme) + " via \"" + c.matched +
             "\"";
  }
  return c.matched;
}

std::string badge(const rules::alert& a) {
  if (a.status == rules::alert_status::resolved) return "\xE2\x9C\x85 RESOLVED";  // ✅
  switch (a.level) {
    case rules::severity::critical:
      return "\xF0\x9F\x94\xB4 CRITICAL";  // 🔴
    case rules::severity::warning:
      return "\xF0\x9F\x9F\xA0 WARNING";  // 🟠
    case rules::severity::info:
      return "\xF0\x9F\x94\xB5 INFO";  // 🔵
  }
  return "WARNING";
}

std::string subject(const rules::alert& a) {
  if (!a.symbol.empty()) {
    return a.name.empty() ? a.symbol : a.symbol + " \xC2\xB7 " + a.name;  // "NVDA · Nvidia"
  }
  if (!a.symbols.empty()) {
    std::string s;
    const std::size_t shown = a.symbols.size() > 6 ? 5 : a.symbols.size();
    for (std::size_t i = 0; i < shown; ++i) s += (i ? ", " : "") + a.symbols[i];
    if (shown < a.symbols.size()) s += " +" + std::to_string(a.symbols.size() - shown) + " more";
    return s;
  }
  return a.rule.empty() ? a.kind : a.rule;
}

std::string json_escaped_bare(std::string_view v) {
  std::string quoted;
  rules::append_json_string(quoted, v);
  return quoted.substr(1, quoted.size() - 2);
}

enum class value_kind { text, number, raw_json };

struct field_value {
  value_kind kind;
  std::string text;
};

bool template_value(std::string_view name, const rules::alert& a, const render_options& options,
                    field_value& out) {
  auto text = [&](std::string v) {
    out = {value_kind::text, std::move(v)};
    return true;
  };
  auto number = [&](std::optional<double> v) {
    out = {value_kind::number, v ? format("%.10g", *v) : std::string("null")};
    return true;
  };
  const rules::citation* first = a.headlines.empty() ? nullptr : &a.headlines.front();
  if (name == "id") return text(a.id);
  if (name == "fingerprint") return text(a.fingerprint);
  if (name == "status") return text(rules::to_string(a.status));
  if (name == "kind") return text(a.kind);
  if (name == "rule") return text(a.rule);
  if (name == "severity") return text(rules::to_string(a.level));
  if (name == "symbol") return text(a.symbol);
  if (name == "symbols") {
    std::string s;
    for (std::size_t i = 0; i < a.symbols.size(); ++i) s += (i ? "," : "") + a.symbols[i];
    return text(s);
  }
  if (name == "name") return text(a.name);
  if (name == "exchange") return text(a.exchange);
  if (name == "direction") return text(a.direction);
  if (name == "change_pct") return number(a.change_pct);
  if (name == "price") return number(a.change_pct ? std::optional<double>(a.price) : std::nullopt);
  if (name == "threshold_pct") return number(a.threshold_pct);
  if (name == "baseline") return text(a.base ? a.base->description : std::string());
  if (name == "baseline_kind") return text(a.base ? a.base->kind : std::string());
  if (name == "baseline_price") {
    return number(a.base ? std::optional<double>(a.base->price) : std::nullopt);
  }
  if (name == "window") return text(a.window > 0 ? rules::format_duration(a.window) : "");
  if (name == "event_time") return text(rules::format_rfc3339_ms(a.event_time));
  if (name == "exchange_time") {
    return text(a.time_zone.empty() && a.utc_offset_s == 0
                    ? std::string()
                    : date_time(a.event_time + a.utc_offset_s * rules::k_ns_per_s) + " " +
                          a.time_zone + " (" + utc_offset_text(a.utc_offset_s) + ")");
  }
  if (name == "time_zone") return text(a.time_zone);
  if (name == "utc_offset_s") return number(static_cast<double>(a.utc_offset_s));
  if (name == "summary") return text(a.summary);
  if (name == "headline") return text(first ? first->headline : "");
  if (name == "headline_url") {
    return text(first ? safe_link_url(first->url).value_or(std::string()) : "");
  }
  if (name == "headline_source") return text(first ? first->source : "");
  if (name == "headlines") {
    std::string s;
    for (const auto& c : a.headlines) {
      if (!s.empty()) s += '\n';
      s += c.headline + " (" + c.source + "; " + why_text(c) + ")";
    }
    return text(s);
  }
  if (name == "grafana_url") return text(grafana_link(options.grafana_url, a));
  if (name == "alert_json") {
    out = {value_kind::raw_json, rules::to_json(a)};
    return true;
  }
  return false;
}

// Calls fn(literal) and fn_field(name) over a template; returns an error text or empty.
template <class Lit, class Field>
std::string walk_template(std::string_view tmpl, Lit&& lit, Field&& field) {
  std::size_t i = 0;
  while (i < tmpl.size()) {
    const std::size_t open = tmpl.find("{{", i);
    if (open == std::string_view::npos) {
      lit(tmpl.substr(i));
      break;
    }
    lit(tmpl.substr(i, open - i));
    const std::size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos)
      return "'{{' at offset " + std::to_string(open) + " is never closed";
    std::string_view name = tmpl.substr(open + 2, close - open - 2);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (std::string e = field(name); !e.empty()) return e;
    i = close + 2;
  }
  return {};
}

}  // namespace

const std::vector<std::string_view>& template_fields() {
  static const std::vector<std::string_view> k_fields{"id",
                                                      "fingerprint",
                                                      "status",
                                                      "kind",
                                                      "rule",
                                                      "severity",
                                                      "symbol",
                                                      "symbols",
                                                      "name",
                                                      "exchange",
                                                      "direction",
                                                      "change_pct",
                                                      "price",
                                                      "threshold_pct",
                                                      "baseline",
                                                      "baseline_kind",
                                                      "baseline_price",
                                                      "window",
                                                      "event_time",
                                                      "exchange_time",
                                                      "time_zone",
                                                      "utc_offset_s",
                                                      "summary",
                                                      "headline",
                                                      "headline_url",
                                                      "headline_source",
                                                      "headlines",
                                                      "grafana_url",
                                                      "alert_json"};
  return k_fields;
}

std::string check_template(std::string_view tmpl) {
  return walk_template(
      tmpl, [](std::string_view) {},
      [](std::string_view name) -> std::string {
        for (std::string_view f : template_fields()) {
          if (f == name) return {};
        }
        std::string list;
        for (std::string_view f : template_fields())
          list += (list.empty() ? "" : ", ") + std::string(f);
        return "unknown placeholder {{" + std::string(name) + "}} (known: " + list + ")";
      });
}

std::string expand_template(std::string_view tmpl, const rules::alert& a,
                            const render_options& options, bool json_escape) {
  std::string out;
  walk_template(
      tmpl, [&](std::string_view literal) { out += literal; },
      [&](std::string_view name) -> std::string {
        // grafana_url inside the Grafana template itself would recurse.
        if (!json_escape && name == "grafana_url") return {};
        field_value v;
        if (!template_value(name, a, options, v)) return {};  // validated at load; skip
        if (!json_escape) {
          out += percent_encode(v.text);
        } else if (v.kind == value_kind::text) {
          out +=
              json_escaped_bare(truncate(v.text, limits::webhook_field_bytes, length_unit::bytes));
        } else {
          out += v.text;
        }
        return {};
      });
  return out;
}

std::string grafana_link(std::string_view url_template, const rules::alert& a) {
  if (url_template.empty()) return {};
  const std::string url = expand_template(url_template, a, render_options{}, false);
  return safe_link_url(url).value_or(std::string());
}

alert_parts make_parts(const rules::alert& a, const render_options& options) {
  alert_parts p;
  p.badge = badge(a);
  p.subject = subject(a);
  p.severity = rules::to_string(a.level);
  p.status = rules::to_string(a.status);
  p.rule = a.rule;
  p.summary = a.summary;
  p.id = a.id;
  if (a.change_pct) {
    p.change = format_change(*a.change_pct);
    const bool down = *a.change_pct < 0 || a.direction == "down";
    p.move = std::string(down ? "\xE2\x96\xBC " : "\xE2\x96\xB2 ") + p.change;  // ▼ / ▲
    if (a.base) {
      p.move +=
          " vs " + (a.base->description.empty() ? a.base->kind + " " + format_price(a.base->price)
                                                : a.base->description);
    }
    p.price = format_price(a.price);
  }
  if (a.window > 0) p.window = "within " + rules::format_duration(a.window);
  p.utc_time = date_time(a.event_time) + " UTC";
  if (!a.time_zone.empty() || a.utc_offset_s != 0) {
    p.exchange_time = date_time(a.event_time + a.utc_offset_s * rules::k_ns_per_s);
    if (!a.time_zone.empty()) p.exchange_time += " " + a.time_zone;
    p.exchange_time += " (" + utc_offset_text(a.utc_offset_s) + ")";
  }
  for (const rules::citation& c : a.headlines) {
    headline_parts h;
    h.text = c.headline;
    h.source = c.source;
    if (auto safe = safe_link_url(c.url)) h.url = std::move(*safe);
    if (c.published) h.published = date_time(c.published).substr(0, 16) + " UTC";
    h.why = why_text(c);
    p.headlines.push_back(std::move(h));
  }
  p.grafana_url = grafana_link(options.grafana_url, a);
  if (!p.grafana_url.empty()) {
    p.grafana_label = "Grafana: " + (a.symbol.empty() ? std::string("dashboard") : a.symbol);
  }
  p.one_line = p.badge + " " + p.subject;
  if (!p.move.empty()) {
    p.one_line += " " + p.move;
    if (!p.window.empty()) p.one_line += " " + p.window;
    p.one_line += "; " + p.price;
  } else if (!a.kind.empty()) {
    p.one_line += " (" + a.kind + ")";
  }
  p.one_line += " at " + (p.exchange_time.empty() ? p.utc_time : p.exchange_time);
  return p;
}

}  // namespace aftershock::exporters
