// Slack incoming webhook: Block Kit sections in mrkdwn with a plain `text` fallback for
// notifications. Untrusted text is escaped (& < > only, as Slack asks), so a headline holding
// <!channel> or <https://evil.example|NVDA halted> shows literally and pings nobody. Each
// alert's section carries block_id "alert-<id>" so a receiver can tell which alerts a message
// holds.
#include "exporters/json_writer.h"
#include "exporters/payload.h"
#include "exporters/text.h"

namespace aftershock::exporters {

namespace {

constexpr length_unit k_unit = length_unit::utf16;  // conservative: >= Slack's character count

std::string main_section(const alert_parts& p, std::size_t cap) {
  bounded_text t(dialect::slack_mrkdwn, k_unit, cap);
  t.styled("*", p.badge + " " + p.subject, "*", 200);
  if (!p.move.empty()) {
    t.tag("  ");
    t.text(p.move, 400);
    if (!p.window.empty()) {
      t.tag(" ");
      t.text(p.window, 40);
    }
    t.tag("\n*Price* ");
    t.text(p.price, 40);
  } else {
    t.tag("\n");
    t.text(p.summary, 600);
  }
  t.tag("\n*Time* ");
  if (!p.exchange_time.empty()) {
    t.text(p.exchange_time, 120);
    t.tag(" \xC2\xB7 ");
  }
  t.text(p.utc_time, 40);
  t.tag("\n*Rule* ");
  t.text(p.rule, 120);
  t.tag(" \xC2\xB7 *Severity* ");
  t.text(p.severity, 20);
  if (!p.grafana_url.empty()) {
    t.tag(" \xC2\xB7 ");
    t.link(p.grafana_url, p.grafana_label, 80);
  }
  return t.take();
}

std::string headlines_section(const alert_parts& p, std::size_t cap) {
  bounded_text t(dialect::slack_mrkdwn, k_unit, cap);
  t.tag("*Why it may be moving*");
  const std::size_t each = headline_cap(t.room(), p.headlines.size());
  for (const headline_parts& h : p.headlines) {
    if (!t.tag("\n\xE2\x80\xA2 ")) break;  // "• "
    if (h.url.empty()) {
      t.text(h.text, each);
    } else {
      t.link(h.url, h.text, each);
    }
    if (t.tag(" \xE2\x80\x94 ")) {  // " — "
      t.styled("_", h.source + (h.published.empty() ? "" : ", " + h.published), "_", 120);
    }
    if (t.tag("\n      ")) t.text(h.why, 200);
  }
  return t.take();
}

void mrkdwn_section(json_writer& w, const std::string& text, const std::string& block_id) {
  w.begin_object().field("type", "section");
  if (!block_id.empty()) w.field("block_id", block_id);
  w.key("text").begin_object().field("type", "mrkdwn").field("text", text).end_object();
  w.end_object();
}

}  // namespace

std::string render_slack(alert_refs alerts, const render_options& options) {
  const std::size_t n = alerts.empty() ? 1 : alerts.size();
  // Share the total budget; each section still has Slack's own 3000 limit.
  const std::size_t per_alert = limits::slack_total_text / n;
  const std::size_t main_cap = std::min(limits::slack_section_text, per_alert * 2 / 5);
  const std::size_t headlines_cap = std::min(limits::slack_section_text, per_alert / 2);

  std::vector<alert_parts> parts;
  parts.reserve(alerts.size());
  for (const rules::alert* a : alerts) parts.push_back(make_parts(*a, options));

  bounded_text fallback(dialect::slack_mrkdwn, k_unit, limits::slack_fallback_text);
  if (parts.size() == 1) {
    fallback.text(parts[0].one_line);
  } else {
    fallback.text(std::to_string(parts.size()) + " aftershock alerts: ");
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i) fallback.tag("; ");
      fallback.text(parts[i].subject + " " + parts[i].change, 120);
    }
  }

  json_writer w;
  w.begin_object();
  w.field("text", fallback.str());
  w.key("blocks").begin_array();
  std::size_t blocks = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const alert_parts& p = parts[i];
    const std::size_t needed = (i ? 1 : 0) + 2 + (p.headlines.empty() ? 0 : 1);
    if (blocks + needed > limits::slack_max_blocks) break;  // max_group keeps this unreachable
    if (i) {
      w.begin_object().field("type", "divider").end_object();
      ++blocks;
    }
    mrkdwn_section(w, main_section(p, main_cap), "alert-" + p.id);
    ++blocks;
    if (!p.headlines.empty()) {
      mrkdwn_section(w, headlines_section(p, headlines_cap), "");
      ++blocks;
    }
    bounded_text ctx(dialect::slack_mrkdwn, k_unit, 300);
    ctx.tag("aftershock \xC2\xB7 id ");
    ctx.text(p.id, 64);
    w.begin_object().field("type", "context").key("elements").begin_array();
    w.begin_object().field("type", "mrkdwn").field("text", ctx.str()).end_object();
    w.end_array().end_object();
    ++blocks;
  }
  w.end_array();
  w.key("unfurl_links").value(false);
  w.key("unfurl_media").value(false);
  w.end_object();
  return w.take();
}

}  // namespace aftershock::exporters
