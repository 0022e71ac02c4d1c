// Telegram Bot API sendMessage in HTML parse mode. The 4096 limit applies to the text after
// entity parsing, in UTF-16 units, so the budget counts what the reader sees (tags are free,
// &lt; is one character) rather than the bytes sent. Untrusted text escapes < > & and quotes.
#include "exporters/json_writer.h"
#include "exporters/payload.h"
#include "exporters/text.h"

namespace aftershock::exporters {

namespace {

constexpr length_unit k_unit = length_unit::utf16;

void render_one(bounded_text& t, const alert_parts& p, std::size_t cap_end) {
  // Tags cost nothing in visible counting; visible literals (newlines, labels) may not fit and
  // are then left out, while styled() keeps every element balanced.
  auto room_until = [&](std::size_t want) {
    const std::size_t left = cap_end > t.used() ? cap_end - t.used() : 0;
    return std::min(want, left);
  };
  t.styled("<b>", p.badge + " " + p.subject, "</b>", room_until(200));
  if (!p.move.empty()) {
    t.tag("\n");
    t.text(p.move + (p.window.empty() ? "" : " " + p.window), room_until(440));
    t.tag("\nPrice ");
    t.styled("<b>", p.price, "</b>", room_until(40));
  } else {
    t.tag("\n");
    t.text(p.summary, room_until(600));
  }
  if (!p.exchange_time.empty()) {
    t.tag("\n");
    t.text(p.exchange_time, room_until(120));
  }
  t.tag("\n");
  t.text(p.utc_time, room_until(40));
  t.tag("\nRule ");
  t.text(p.rule + " \xC2\xB7 " + p.severity, room_until(140));
  if (!p.headlines.empty() && t.tag("\n\n")) {
    t.styled("<b>", "Why it may be moving", "</b>", room_until(40));
  }
  const std::size_t each = headline_cap(room_until(cap_end), p.headlines.size());
  for (const headline_parts& h : p.headlines) {
    if (room_until(20) < 20 || !t.tag("\n\xE2\x80\xA2 ")) break;
    if (h.url.empty()) {
      t.text(h.text, room_until(each));
    } else {
      t.link(h.url, h.text, room_until(each));
    }
    if (t.tag(" \xE2\x80\x94 ")) {
      t.styled("<i>", h.source + (h.published.empty() ? "" : ", " + h.published), "</i>",
               room_until(120));
    }
    if (t.tag("\n  ")) t.text(h.why, room_until(200));
  }
  if (!p.grafana_url.empty() && t.tag("\n")) t.link(p.grafana_url, p.grafana_label, room_until(80));
  if (t.tag("\n")) t.styled("<code>", "id " + p.id, "</code>", room_until(40));
}

}  // namespace

std::string render_telegram(alert_refs alerts, const render_options& options) {
  bounded_text t(dialect::telegram_html, k_unit, limits::telegram_text,
                 bounded_text::cost::visible);
  const std::size_t n = alerts.empty() ? 1 : alerts.size();
  const std::size_t share = limits::telegram_text / n;
  for (std::size_t i = 0; i < alerts.size(); ++i) {
    if (i) t.tag("\n\n");
    const alert_parts p = make_parts(*alerts[i], options);
    render_one(t, p, std::min(limits::telegram_text, t.used() + share));
  }
  json_writer w;
  w.begin_object();
  w.field("chat_id", options.chat_id);
  w.field("text", t.str());
  w.field("parse_mode", "HTML");
  w.key("link_preview_options").begin_object().key("is_disabled").value(true).end_object();
  w.end_object();
  return w.take();
}

}  // namespace aftershock::exporters
