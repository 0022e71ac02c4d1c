// Generic webhook bodies (a {{field}} template, JSON-escaped values; the alert's JSON when no
// template is set) and readable console lines.
#include "exporters/payload.h"
#include "exporters/text.h"

namespace aftershock::exporters {

std::string render_webhook(const rules::alert& a, const render_options& options) {
  if (options.template_text.empty()) return rules::to_json(a);
  return expand_template(options.template_text, a, options, true);
}

std::string render_console(const rules::alert& a, const render_options& options) {
  const alert_parts p = make_parts(a, options);
  // Terminal output: escape(plain) turns control characters (and so ANSI escape sequences) into
  // spaces, so a headline cannot repaint or retitle the operator's terminal.
  auto clean = [](std::string_view s, std::size_t cap) {
    return truncate(escape(s, dialect::plain), cap, length_unit::code_points);
  };
  std::string out = clean(p.badge + " " + p.subject, 200);
  if (!p.move.empty()) {
    out += "  " + clean(p.move, 300);
    if (!p.window.empty()) out += " " + p.window;
  } else {
    out += "  " + clean(p.summary, 500);
  }
  out += "\n    ";
  if (!p.price.empty()) out += "price " + p.price + " at ";
  out += (p.exchange_time.empty() ? p.utc_time : p.exchange_time + " \xC2\xB7 " + p.utc_time);
  out += " \xC2\xB7 rule " + clean(p.rule, 80);
  for (const headline_parts& h : p.headlines) {
    out += "\n    \xE2\x96\xB8 \"" + clean(h.text, limits::headline_text) + "\" \xE2\x80\x94 " +
           clean(h.source, 80);
    if (!h.published.empty()) out += ", " + h.published;
    out += " (" + clean(h.why, 200) + ")";
    if (!h.url.empty()) out += " " + h.url;
  }
  if (!p.grafana_url.empty()) out += "\n    " + p.grafana_url;
  out += "\n    id " + clean(p.id, 64) + "\n";
  return out;
}

}  // namespace aftershock::exporters
