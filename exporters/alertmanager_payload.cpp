// Alertmanager's client API (POST /api/v2/alerts): a JSON array of alerts whose labels are the
// alert's identity (the fingerprint fields) and whose annotations carry the prose. Alertmanager
// itself forwards annotations to chat without escaping, so they are cleaned of control
// characters and broadcast mentions and bounded here.
#include "exporters/json_writer.h"
#include "exporters/payload.h"
#include "exporters/text.h"

namespace aftershock::exporters {

namespace {

std::string annotation(std::string_view text, std::size_t cap = limits::alertmanager_annotation) {
  // Alertmanager's Slack and Discord notifiers paste annotations unescaped: a word joiner after
  // every '<' keeps "<!channel>" and "<https://evil|label>" from becoming tokens there, and
  // looks the same.
  std::string defused;
  defused.reserve(text.size());
  for (char c : text) {
    defused += c;
    if (c == '<') defused += "\xE2\x81\xA0";
  }
  bounded_text t(dialect::plain, length_unit::code_points, cap);
  t.text(defused);
  return t.take();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> alertmanager_labels(const rules::alert& a) {
  std::vector<std::pair<std::string, std::string>> labels;
  labels.emplace_back("alertname",
                      "aftershock_" + (a.kind.empty() ? std::string("alert") : a.kind));
  if (!a.rule.empty()) labels.emplace_back("rule", a.rule);
  if (!a.symbol.empty()) labels.emplace_back("symbol", annotation(a.symbol, 64));
  if (a.symbol.empty() && !a.name.empty()) labels.emplace_back("basket", annotation(a.name, 64));
  if (!a.direction.empty()) labels.emplace_back("direction", a.direction);
  if (a.base && !a.base->kind.empty()) labels.emplace_back("baseline", a.base->kind);
  labels.emplace_back("severity", rules::to_string(a.level));
  return labels;
}

std::string render_alertmanager(std::span<const alertmanager_item> items,
                                const render_options& options) {
  json_writer w;
  w.begin_array();
  for (const alertmanager_item& item : items) {
    const rules::alert& a = *item.alert;
    const alert_parts p = make_parts(a, options);
    w.begin_object();
    w.key("labels").begin_object();
    for (const auto& [k, v] : alertmanager_labels(a)) w.field(k, v);
    w.end_object();
    w.key("annotations").begin_object();
    w.field("summary", annotation(p.one_line, 512));
    std::string description = p.move.empty() ? p.summary : p.move;
    if (!p.window.empty()) description += " " + p.window;
    for (const headline_parts& h : p.headlines) {
      description += "\n- " + truncate(h.text, limits::headline_text, length_unit::code_points) +
                     " (" + h.source + (h.published.empty() ? "" : ", " + h.published) + "; " +
                     h.why + ")";
      if (!h.url.empty()) description += " " + h.url;
    }
    w.field("description", annotation(description));
    w.field("alert_id", annotation(a.id, 64));
    w.field("fingerprint", annotation(a.fingerprint, 64));
    if (!p.change.empty()) w.field("change", p.change);
    if (!p.price.empty()) w.field("price", p.price);
    if (a.base) w.field("baseline_description", annotation(a.base->description, 256));
    if (!p.exchange_time.empty()) w.field("exchange_time", p.exchange_time);
    w.field("event_time", rules::format_rfc3339_ms(a.event_time));
    if (!p.grafana_url.empty()) w.field("grafana", p.grafana_url);
    w.end_object();
    w.field("startsAt", rules::format_rfc3339_ms(item.starts_at));
    w.field("endsAt", rules::format_rfc3339_ms(item.ends_at));
    if (!p.grafana_url.empty()) w.field("generatorURL", p.grafana_url);
    w.end_object();
  }
  w.end_array();
  return w.take();
}

}  // namespace aftershock::exporters
