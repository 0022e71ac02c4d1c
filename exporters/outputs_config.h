// What the `outputs:` section of the configuration says: the durable outbox and the
// destinations (chat platforms, Alertmanager, webhooks, files) with their routes, grouping,
// rate limits and retry policy. Plain aggregates owned by the exporters; the daemon's config
// loader fills them and validate() checks them. Safe to copy; no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/alert.h"
#include "rules/time.h"

namespace aftershock::exporters {

enum class destination_type : std::uint8_t {
  slack,         // incoming webhook, Block Kit with a text fallback
  discord,       // webhook execute, embeds, no mentions
  msteams,       // Workflows webhook, Adaptive Card
  telegram,      // Bot API sendMessage, HTML parse mode
  alertmanager,  // POST /api/v2/alerts, re-sent while firing
  webhook,       // JSON body from a template
  jsonl,         // one JSON line per alert in a file
  console,       // readable lines on stdout
};
inline constexpr std::size_t k_destination_type_count = 8;
const char* to_string(destination_type t) noexcept;
std::optional<destination_type> destination_type_from_name(std::string_view name) noexcept;
/// True for destinations reached over HTTP(S).
bool is_http(destination_type t) noexcept;

/// Which alerts a destination takes. Empty lists match everything.
struct route_config {
  rules::severity min_severity = rules::severity::info;
  std::vector<std::string> rules;    // rule names
  std::vector<std::string> symbols;  // symbols (the alert's symbol or any of its symbols)
  std::vector<std::string> themes;   // a cited headline linked through one of these themes
  bool send_resolved = true;
};

struct destination_config {
  std::string name;  // unique; names the destination in logs, metrics and the journal
  destination_type type = destination_type::console;
  // Secrets are references: env:NAME, file:PATH or cred:NAME ($CREDENTIALS_DIRECTORY/NAME); a
  // literal value is accepted (local receivers, tests) but then lives in the config file.
  std::string url;            // webhook URL; Alertmanager base URL; Telegram API base (optional)
  std::string token;          // Telegram bot token
  std::string chat_id;        // Telegram chat ("-100..." for groups and channels)
  std::string path;           // jsonl file
  std::string template_text;  // webhook body with {{field}} placeholders (JSON-escaped values)
  std::vector<std::pair<std::string, std::string>> headers;  // webhook extra headers (secrets ok)
  std::string username;                                      // Discord display name override
  std::string ca_file;  // extra trust anchors (PEM), on top of the system store
  route_config route;
  rules::time_ns group_window = 0;  // collect alerts this long into one message (0 = none)
  std::size_t max_group = 0;        // alerts per message (0 = the platform's default)
  double rate_per_second = -1;      // token bucket rate (<0 = platform default, 0 = unlimited)
  double burst = 0;                 // bucket size (0 = platform default)
  double group_per_minute = -1;     // Telegram group chats: second bucket (<0 = default 20)
  rules::time_ns timeout = 10 * rules::k_ns_per_s;            // whole request deadline
  rules::time_ns max_retry_after = 120 * rules::k_ns_per_s;   // cap on a 429's wait
  rules::time_ns backoff_initial = 500 * rules::k_ns_per_ms;  // first retry after 5xx/timeout
  rules::time_ns backoff_max = 60 * rules::k_ns_per_s;
  rules::time_ns resend_interval = 60 * rules::k_ns_per_s;  // Alertmanager: while firing
  rules::time_ns firing_for = 60 * rules::k_ns_per_min;     // Alertmanager: stop re-sending
};

struct outbox_config {
  std::string state_dir;              // empty: the caller decides (flag, $STATE_DIRECTORY)
  std::size_t max_alerts = 10000;     // undelivered alerts kept
  std::size_t max_bytes = 64u << 20;  // their encoded size
  rules::time_ns commit_interval = 2 * rules::k_ns_per_ms;  // fsync at most this often...
  std::size_t commit_batch = 512;                           // ...unless this many records wait
  std::size_t compact_min_bytes = 8u << 20;  // journal size before compaction is considered
};

struct outputs_config {
  outbox_config outbox;
  std::string grafana_url;  // link template, e.g. https://grafana.example/d/x?var-symbol={{symbol}}
  std::vector<destination_config> destinations;
  bool configured() const noexcept { return !destinations.empty(); }
};

/// A problem found by validate(), with the document path ("outputs.destinations[2].url") the
/// config loader maps back to a line.
struct outputs_problem {
  std::string path;
  std::string message;
};

/// Checks what the YAML reader cannot: required fields per type, unique names, URL schemes,
/// secret reference syntax, template placeholders. Returns every problem found.
std::vector<outputs_problem> validate(const outputs_config& config);

/// Platform defaults for what a destination left unset.
struct destination_limits {
  std::size_t max_group;
  double rate_per_second;  // 0 = unlimited
  double burst;
  double group_per_minute;  // Telegram groups; 0 = none
};
destination_limits effective_limits(const destination_config& d) noexcept;

}  // namespace aftershock::exporters
