// Discord webhook execute: one embed per alert, lengths in UTF-16 units within the per-field
// limits and the 6000-unit total across embeds. `allowed_mentions: {"parse": []}` means nothing
// in the message can ping, and untrusted text is markdown-escaped so it cannot make masked links
// or neutralize our formatting. Each embed's footer names the alert id.
#include "exporters/json_writer.h"
#include "exporters/payload.h"
#include "exporters/text.h"

namespace aftershock::exporters {

namespace {

constexpr length_unit k_unit = length_unit::utf16;

std::int64_t color(const rules::alert& a) {
  if (a.status == rules::alert_status::resolved) return 0x2EB67D;
  switch (a.level) {
    case rules::severity::critical:
      return 0xE01E5A;
    case rules::severity::warning:
      return 0xF2A900;
    case rules::severity::info:
      return 0x2EB6F0;
  }
  return 0xF2A900;
}

struct embed_field {
  std::string name;
  std::string value;
  bool is_inline;
};

}  // namespace

std::string render_discord(alert_refs alerts, const render_options& options) {
  const std::size_t n =
      std::max<std::size_t>(1, std::min(alerts.size(), limits::discord_max_embeds));
  // Every embed gets an equal share of the 6000 total, with a little slack for rounding.
  const std::size_t share = (limits::discord_total - 100) / n;

  json_writer w;
  w.begin_object();
  if (!options.username.empty()) {
    w.field("username", truncate(escape(options.username, dialect::plain), 80, k_unit));
  }
  {
    bounded_text content(dialect::discord_markdown, k_unit, 300);
    if (!alerts.empty()) {
      const alert_parts first = make_parts(*alerts[0], options);
      content.text(first.badge + " " + first.subject + " " + first.change, 200);
      if (alerts.size() > 1) content.text(" (+" + std::to_string(alerts.size() - 1) + " more)");
    }
    w.field("content", content.str());
  }
  w.key("allowed_mentions").begin_object().key("parse").begin_array().end_array().end_object();
  w.key("embeds").begin_array();
  for (std::size_t i = 0; i < n && i < alerts.size(); ++i) {
    const rules::alert& a = *alerts[i];
    const alert_parts p = make_parts(a, options);
    std::size_t budget = share;

    bounded_text title(dialect::discord_markdown, k_unit,
                       std::min(limits::discord_title, budget / 4));
    title.text(p.badge + " " + p.subject + (p.change.empty() ? "" : " " + p.change));
    budget -= std::min(budget, title.used());

    bounded_text footer(dialect::plain, k_unit, std::min<std::size_t>(120, budget / 4));
    footer.text("aftershock \xC2\xB7 " + p.rule + " \xC2\xB7 id " + p.id);
    budget -= std::min(budget, footer.used());

    std::vector<embed_field> fields;
    auto add_field = [&](std::string_view name, const std::string& value, bool is_inline) {
      if (value.empty()) return;
      const std::size_t cap = std::min(limits::discord_field_value, budget / 3);
      bounded_text v(dialect::discord_markdown, k_unit, cap);
      v.text(value);
      const std::size_t cost = text_length(name, k_unit) + v.used();
      if (cost > budget || v.empty()) return;
      budget -= cost;
      fields.push_back({std::string(name), v.take(), is_inline});
    };
    add_field("Price", p.price, true);
    add_field("Severity", p.severity, true);
    add_field("Exchange time", p.exchange_time, false);
    add_field("UTC", p.utc_time, true);

    bounded_text d(dialect::discord_markdown, k_unit,
                   std::min(limits::discord_description, budget));
    if (!p.move.empty()) {
      d.text(p.move, 400);
      if (!p.window.empty()) {
        d.tag(" ");
        d.text(p.window, 40);
      }
    } else {
      d.text(p.summary, 600);
    }
    if (!p.headlines.empty()) d.tag("\n\n**Why it may be moving**");
    const std::size_t each = headline_cap(d.room(), p.headlines.size());
    for (const headline_parts& h : p.headlines) {
      if (!d.tag("\n\xE2\x80\xA2 ")) break;
      if (h.url.empty()) {
        d.text(h.text, each);
      } else {
        d.link(h.url, h.text, each);
      }
      if (d.tag(" \xE2\x80\x94 ")) {
        d.styled("*", h.source + (h.published.empty() ? "" : ", " + h.published), "*", 120);
      }
      if (d.tag("\n  ")) d.text(h.why, 200);
    }
    if (!p.grafana_url.empty()) {
      d.tag("\n\n");
      d.link(p.grafana_url, p.grafana_label, 80);
    }

    w.begin_object();
    w.field("title", title.str());
    if (!p.grafana_url.empty()) w.field("url", p.grafana_url);
    w.key("color").value(color(a));
    w.field("description", d.str());
    if (!fields.empty()) {
      w.key("fields").begin_array();
      for (const auto& f : fields) {
        w.begin_object().field("name", f.name).field("value", f.value);
        w.key("inline").value(f.is_inline).end_object();
      }
      w.end_array();
    }
    w.key("footer").begin_object().field("text", footer.str()).end_object();
    w.field("timestamp", rules::format_rfc3339_ms(a.event_time));
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

}  // namespace aftershock::exporters
