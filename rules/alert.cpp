#include "rules/alert.h"

#include <array>
#include <cmath>
#include <cstdio>

namespace aftershock::rules {

const char* to_string(severity s) noexcept {
  switch (s) {
    case severity::info: return "info";
    case severity::warning: return "warning";
    case severity::critical: return "critical";
  }
  return "warning";
}

const char* to_string(alert_status s) noexcept {
  return s == alert_status::resolved ? "resolved" : "firing";
}

namespace {

// Length of a valid UTF-8 sequence starting at s[i], or 0 if the bytes there are invalid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  std::uint32_t min = 0;
  if (b0 < 0x80) return 1;
  if ((b0 & 0xE0) == 0xC0) { n = 2; min = 0x80; }
  else if ((b0 & 0xF0) == 0xE0) { n = 3; min = 0x800; }
  else if ((b0 & 0xF8) == 0xF0) { n = 4; min = 0x10000; }
  else return 0;
  if (i + n > s.size()) return 0;
  std::uint32_t cp = b0 & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  // %.10g keeps prices and percents exact enough and the output deterministic.
  std::array<char, 32> buf{};
  const int n = std::snprintf(buf.data(), buf.size(), "%.10g", v);
  out.append(buf.data(), static_cast<std::size_t>(n));
}

void append_key(std::string& out, const char* key) {
  out += '"';
  out += key;
  out += "\":";
}

void append_string_field(std::string& out, const char* key, std::string_view value) {
  append_key(out, key);
  append_json_string(out, value);
  out += ',';
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += "\\u00";
            out += k_hex[c >> 4];
            out += k_hex[c & 0xF];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      out += "\\ufffd";  // invalid byte: replacement character, never raw
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  out += '"';
}

std::string to_json(const alert& a) {
  std::string out;
  out.reserve(512 + a.headlines.size() * 256);
  out += '{';
  append_string_field(out, "id", a.id);
  append_string_field(out, "fingerprint", a.fingerprint);
  append_string_field(out, "status", to_string(a.status));
  append_string_field(out, "kind", a.kind);
  append_string_field(out, "rule", a.rule);
  append_string_field(out, "severity", to_string(a.level));
  append_key(out, "symbol");
  if (a.symbol.empty()) {
    out += "null,";
  } else {
    append_json_string(out, a.symbol);
    out += ',';
  }
  append_key(out, "symbols");
  out += '[';
  for (std::size_t i = 0; i < a.symbols.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, a.symbols[i]);
  }
  out += "],";
  if (!a.name.empty()) append_string_field(out, "name", a.name);
  if (!a.exchange.empty()) append_string_field(out, "exchange", a.exchange);
  append_key(out, "change_pct");
  if (a.change_pct) {
    append_number(out, std::round(*a.change_pct * 100.0) / 100.0);
  } else {
    out += "null";
  }
  out += ',';
  if (!a.direction.empty()) append_string_field(out, "direction", a.direction);
  if (a.change_pct) {
    append_key(out, "price");
    append_number(out, a.price);
    out += ',';
    append_key(out, "threshold_pct");
    append_number(out, a.threshold_pct);
    out += ',';
  }
  append_key(out, "baseline");
  if (a.base) {
    out += '{';
    append_string_field(out, "kind", a.base->kind);
    // A baseline without one reference price (basket breadth: each member's own close) says so
    // with nulls rather than a fake 0 at the epoch.
    const bool has_reference = a.base->price != 0 || a.base->time != 0;
    append_key(out, "price");
    if (has_reference) {
      append_number(out, a.base->price);
    } else {
      out += "null";
    }
    out += ',';
    append_key(out, "time");
    if (has_reference) {
      append_json_string(out, format_rfc3339_ms(a.base->time));
    } else {
      out += "null";
    }
    out += ',';
    append_key(out, "description");
    append_json_string(out, a.base->description);
    out += "},";
  } else {
    out += "null,";
  }
  append_key(out, "window");
  if (a.window > 0) {
    append_json_string(out, format_duration(a.window));
  } else {
    out += "null";
  }
  out += ',';
  append_string_field(out, "event_time", format_rfc3339_ms(a.event_time));
  if (!a.time_zone.empty()) {
    append_string_field(out, "time_zone", a.time_zone);
    append_key(out, "utc_offset_s");
    out += std::to_string(a.utc_offset_s);
    out += ',';
  }
  append_key(out, "headlines");
  out += '[';
  for (std::size_t i = 0; i < a.headlines.size(); ++i) {
    const citation& c = a.headlines[i];
    if (i) out += ',';
    out += '{';
    append_string_field(out, "id", c.id);
    append_string_field(out, "headline", c.headline);
    append_string_field(out, "source", c.source);
    if (!c.url.empty()) append_string_field(out, "url", c.url);
    append_string_field(out, "published", format_rfc3339_s(c.published));
    append_string_field(out, "link", to_string(c.how));
    if (!c.theme.empty()) append_string_field(out, "theme", c.theme);
    append_string_field(out, "matched", c.matched);
    append_key(out, "position");
    out += std::to_string(c.position);
    out += '}';
  }
  out += "],";
  if (!a.follow_up_of.empty()) append_string_field(out, "follow_up_of", a.follow_up_of);
  if (!a.facts.empty()) {
    append_key(out, "facts");
    out += '{';
    for (std::size_t i = 0; i < a.facts.size(); ++i) {
      if (i) out += ',';
      append_json_string(out, a.facts[i].first);
      out += ':';
      append_number(out, a.facts[i].second);
    }
    out += "},";
  }
  append_key(out, "summary");
  append_json_string(out, a.summary);
  out += '}';
  return out;
}

}  // namespace aftershock::rules
