// Alerts to message bodies, one pure renderer per platform (slack_payload.cpp, ...): what
// people want to read (ticker and name, the move with its baseline and window, price, time in
// the exchange's zone and in UTC, the cited headlines with links and why they matched,
// severity, a Grafana link), with every untrusted field escaped for the platform and every
// field and message kept inside the platform's length limits, counted in its own unit.
// Pure functions; thread-safe. No sockets here: delivery is delivery_service's job.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/alert.h"

namespace aftershock::exporters {

/// Several alerts rendered into one message (a grouping window), in delivery order.
using alert_refs = std::span<const rules::alert* const>;

struct render_options {
  std::string grafana_url;    // template with {{symbol}}, {{exchange}}, {{rule}}, ...
  std::string chat_id;        // Telegram
  std::string username;       // Discord display name (optional)
  std::string template_text;  // webhook body template (empty: the alert's JSON)
};

/// Platform limits, in the unit each platform counts in.
namespace limits {
inline constexpr std::size_t slack_section_text = 3000;   // chars per section text object
inline constexpr std::size_t slack_fallback_text = 3000;  // notification text (Slack cuts at 40k)
inline constexpr std::size_t slack_total_text = 12000;    // msg_blocks_too_long starts near 13k
inline constexpr std::size_t slack_max_blocks = 50;
inline constexpr std::size_t discord_content = 2000;  // UTF-16 units
inline constexpr std::size_t discord_title = 256;
inline constexpr std::size_t discord_description = 4096;
inline constexpr std::size_t discord_field_name = 256;
inline constexpr std::size_t discord_field_value = 1024;
inline constexpr std::size_t discord_footer = 2048;
inline constexpr std::size_t discord_total = 6000;  // all embeds together
inline constexpr std::size_t discord_max_embeds = 10;
inline constexpr std::size_t telegram_text = 4096;      // UTF-16 units after entity parsing
inline constexpr std::size_t teams_body_bytes = 28000;  // the whole POST body
inline constexpr std::size_t alertmanager_annotation = 4096;
inline constexpr std::size_t webhook_field_bytes = 8192;  // per substituted template value
inline constexpr std::size_t headline_text = 700;         // per cited headline, any platform
}  // namespace limits

/// How much of `budget` one cited headline's text may take when `count` share it, so that the
/// source and the reason it matched still fit after it.
inline std::size_t headline_cap(std::size_t budget, std::size_t count) {
  const std::size_t per = budget / (count ? count : 1);
  return std::min(limits::headline_text, per * 3 / 5);
}

/// The pieces of one alert as plain (unescaped) text; renderers escape them for their dialect.
struct headline_parts {
  std::string text;       // the headline (untrusted)
  std::string source;     // the news source (untrusted)
  std::string url;        // a safe http(s) link target, or empty
  std::string published;  // "2025-01-27 12:00 UTC"
  std::string why;        // "direct mention \"Nvidia\"", "theme deepseek via \"DeepSeek\"", ...
};

struct alert_parts {
  std::string badge;          // "🔴 CRITICAL", "✅ RESOLVED"
  std::string subject;        // "NVDA · Nvidia" (symbol and name), or the rule for others
  std::string change;         // "-16.97%" or empty
  std::string move;           // "▼ -16.97% vs previous close 142.62 (2025-01-24, XNAS)" or empty
  std::string window;         // "within 15m" or empty
  std::string price;          // "118.42" or empty
  std::string exchange_time;  // "2025-01-27 09:33:05 America/New_York (UTC-05:00)" or empty
  std::string utc_time;       // "2025-01-27 14:33:05 UTC"
  std::string severity;       // "critical"
  std::string status;         // "firing" / "resolved"
  std::string rule;
  std::string summary;  // the engine's one line (contains headline text: untrusted)
  std::vector<headline_parts> headlines;
  std::string grafana_url;    // safe link or empty
  std::string grafana_label;  // "Grafana: NVDA"
  std::string id;
  std::string one_line;  // badge, subject, move, price and time in one line
};

alert_parts make_parts(const rules::alert& a, const render_options& options);

/// Expands {{field}} placeholders (template_fields()) with the alert's values. With
/// `json_escape`, string values are JSON-escaped without quotes and numbers are bare, so a
/// template like {"text":"{{summary}}","move":{{change_pct}}} stays valid JSON whatever a
/// headline contains. Without it, values are percent-encoded (URL templates).
std::string expand_template(std::string_view tmpl, const rules::alert& a,
                            const render_options& options, bool json_escape);
/// Placeholders a webhook template and the Grafana URL may use.
const std::vector<std::string_view>& template_fields();
/// Checks placeholder syntax and names; empty when fine, otherwise why not.
std::string check_template(std::string_view tmpl);
/// The alert's Grafana link (template expanded, then checked as a safe link), or empty.
std::string grafana_link(std::string_view url_template, const rules::alert& a);

// Chat platforms: the whole request body.
std::string render_slack(alert_refs alerts, const render_options& options);
std::string render_discord(alert_refs alerts, const render_options& options);
std::string render_teams(alert_refs alerts, const render_options& options);
std::string render_telegram(alert_refs alerts, const render_options& options);

/// One element of an Alertmanager POST: the alert whose labels identify it, and its times.
struct alertmanager_item {
  const rules::alert* alert = nullptr;
  rules::time_ns starts_at = 0;
  rules::time_ns ends_at = 0;
};
/// Labels from the fingerprint fields: alertname, rule, symbol, direction, baseline, severity.
std::vector<std::pair<std::string, std::string>> alertmanager_labels(const rules::alert& a);
std::string render_alertmanager(std::span<const alertmanager_item> items,
                                const render_options& options);

std::string render_webhook(const rules::alert& a, const render_options& options);
/// A few readable lines for a terminal (control characters removed), ending in a newline.
std::string render_console(const rules::alert& a, const render_options& options);

}  // namespace aftershock::exporters
