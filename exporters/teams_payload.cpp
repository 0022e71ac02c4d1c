// Microsoft Teams through a Workflows webhook ("post to a channel when a webhook request is
// received"): a message with one Adaptive Card. The retired Office 365 connector MessageCard is
// deliberately not supported. Teams refuses bodies above about 28 KB, so text is budgeted in
// bytes as written inside JSON; untrusted text is markdown-escaped.
#include <functional>

#include "exporters/json_writer.h"
#include "exporters/payload.h"
#include "exporters/text.h"

namespace aftershock::exporters {

namespace {

constexpr length_unit k_unit = length_unit::json_bytes;
constexpr std::size_t k_card_overhead = 600;   // message, attachment and card skeleton
constexpr std::size_t k_alert_overhead = 900;  // one container's element skeletons

const char* color(const rules::alert& a) {
  if (a.status == rules::alert_status::resolved) return "Good";
  switch (a.level) {
    case rules::severity::critical:
      return "Attention";
    case rules::severity::warning:
      return "Warning";
    case rules::severity::info:
      return "Accent";
  }
  return "Default";
}

void text_block(json_writer& w, const std::string& text, bool bold = false, bool subtle = false) {
  w.begin_object().field("type", "TextBlock").field("text", text).key("wrap").value(true);
  if (bold) w.field("weight", "Bolder").field("size", "Medium");
  if (subtle) w.key("isSubtle").value(true).field("size", "Small");
  w.end_object();
}

// Budgeted text in this card's unit; takes from and returns to the alert's budget.
std::string budgeted(std::size_t& budget, std::size_t cap,
                     const std::function<void(bounded_text&)>& fill) {
  bounded_text t(dialect::teams_markdown, k_unit, std::min(cap, budget));
  fill(t);
  budget -= std::min(budget, t.used());
  return t.take();
}

}  // namespace

std::string render_teams(alert_refs alerts, const render_options& options) {
  const std::size_t n = alerts.empty() ? 1 : alerts.size();
  const std::size_t share = (limits::teams_body_bytes - k_card_overhead) / n;
  json_writer w;
  w.begin_object().field("type", "message").key("attachments").begin_array();
  w.begin_object().field("contentType", "application/vnd.microsoft.card.adaptive");
  w.key("contentUrl").null();
  w.key("content").begin_object();
  w.field("$schema", "http://adaptivecards.io/schemas/adaptive-card.json");
  w.field("type", "AdaptiveCard").field("version", "1.4");
  w.key("msteams").begin_object().field("width", "Full").end_object();
  w.key("body").begin_array();
  for (std::size_t i = 0; i < alerts.size(); ++i) {
    const rules::alert& a = *alerts[i];
    const alert_parts p = make_parts(a, options);
    std::size_t budget = share > k_alert_overhead ? share - k_alert_overhead : 0;

    w.begin_object().field("type", "Container").field("id", "alert-" + p.id);
    if (i) w.key("separator").value(true);
    w.key("items").begin_array();

    const std::string title = budgeted(budget, 400, [&](bounded_text& t) {
      t.text(p.badge + " " + p.subject + (p.change.empty() ? "" : " " + p.change));
    });
    w.begin_object().field("type", "TextBlock").field("text", title).key("wrap").value(true);
    w.field("weight", "Bolder").field("size", "Medium").field("color", color(a)).end_object();

    const std::string move = budgeted(budget, 1200, [&](bounded_text& t) {
      if (!p.move.empty()) {
        t.text(p.move + (p.window.empty() ? "" : " " + p.window), 600);
      } else {
        t.text(p.summary, 1000);
      }
    });
    text_block(w, move);

    w.begin_object().field("type", "FactSet").key("facts").begin_array();
    auto fact = [&](const char* name, const std::string& value) {
      if (value.empty()) return;
      const std::string v = budgeted(budget, 300, [&](bounded_text& t) { t.text(value); });
      w.begin_object().field("title", name).field("value", v).end_object();
    };
    fact("Price", p.price);
    fact("Exchange time", p.exchange_time);
    fact("UTC", p.utc_time);
    fact("Rule", p.rule);
    fact("Severity", p.severity);
    w.end_array().end_object();

    if (!p.headlines.empty()) {
      const std::string why =
          budgeted(budget, budget > 300 ? budget - 300 : 0, [&](bounded_text& t) {
            t.tag("**Why it may be moving**");
            const std::size_t each = headline_cap(t.room(), p.headlines.size());
            for (const headline_parts& h : p.headlines) {
              if (!t.tag("\n\n- ")) break;
              if (h.url.empty()) {
                t.text(h.text, each);
              } else {
                t.link(h.url, h.text, each);
              }
              if (t.tag(" \xE2\x80\x94 ")) {
                t.styled("_", h.source + (h.published.empty() ? "" : ", " + h.published), "_", 120);
              }
              t.styled(" (", h.why, ")", 200);
            }
          });
      text_block(w, why);
    }

    const std::string footer = budgeted(budget, 400, [&](bounded_text& t) {
      if (!p.grafana_url.empty()) {
        t.link(p.grafana_url, p.grafana_label, 80);
        t.tag(" \xC2\xB7 ");
      }
      t.text("aftershock \xC2\xB7 id " + p.id);
    });
    text_block(w, footer, false, true);
    w.end_array().end_object();
  }
  w.end_array();
  w.end_object();  // content
  w.end_object();  // attachment
  w.end_array().end_object();
  return w.take();
}

}  // namespace aftershock::exporters
