// The daemon's whole configuration as plain values: the rules engine's part plus what only the
// daemon needs (feeds, outputs). Filled by config_loader; plain aggregate, safe to copy.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster_config.h"
#include "exporters/outputs_config.h"
#include "rules/rules_config.h"
#include "rules/time.h"

namespace aftershock::daemon {

/// One configured feed connection (used by `run`; `replay` only needs the dialect names).
/// Durations are nanoseconds (rules::time_ns); optional ones default per dialect when unset.
struct feed_config {
  std::string name;      // "alpaca-stocks-sip"; defaults to the dialect name
  std::string dialect;   // "alpaca-stocks"
  std::string url;       // "wss://stream.data.alpaca.markets/v2/sip"
  std::vector<std::string> symbols;
  std::vector<std::string> channels;  // trades, quotes, bars, news ...; empty: dialect default
  // Credentials are references, resolved at startup: env:NAME, file:PATH, cred:NAME
  // ($CREDENTIALS_DIRECTORY/NAME, systemd LoadCredential=). A literal is accepted with a warning.
  std::string key;
  std::string secret;
  std::string subscribe_message;     // generic: a custom subscribe request sent after connecting
  std::string subscribe_via = "url"; // binance: url (streams in the path) | message (SUBSCRIBE)
  std::string ca_file;               // extra trust anchors (PEM) on top of the system store
  bool verify_host = true;           // TLS host-name verification (off: loud warning)
  bool compression = true;           // offer permessage-deflate
  bool msgpack = false;              // Alpaca's msgpack mode: not supported, must stay false
  rules::time_ns connect_timeout = 10 * rules::k_ns_per_s;
  rules::time_ns handshake_timeout = 10 * rules::k_ns_per_s;
  rules::time_ns auth_timeout = 10 * rules::k_ns_per_s;
  rules::time_ns idle_timeout = 30 * rules::k_ns_per_s;
  rules::time_ns ping_interval = 10 * rules::k_ns_per_s;
  std::optional<rules::time_ns> stale_after;         // 0 turns the watchdog off
  std::optional<rules::time_ns> max_connection_age;  // planned reconnect; binance: 23h
  rules::time_ns backoff_base = 1 * rules::k_ns_per_s;
  rules::time_ns backoff_cap = 60 * rules::k_ns_per_s;
  rules::time_ns fatal_retry = 15 * rules::k_ns_per_min;  // after bad keys / refused plan
  rules::time_ns healthy_after = 30 * rules::k_ns_per_s;  // healthy this long resets backoff
  std::size_t max_frame_bytes = 4u << 20;
  std::string market;  // exchange MIC for staleness hours, or "always"; empty: dialect default
};

/// `metrics:`: the Prometheus endpoint (/metrics, /healthz, /readyz) of `run`.
struct metrics_config {
  bool enabled = true;
  std::string listen = "127.0.0.1:9464";  // loopback unless configured otherwise
  std::size_t max_extra_symbols = 64;     // per-symbol series beyond the universe
};

struct daemon_config {
  rules::rules_config rules;
  std::vector<feed_config> feeds;
  exporters::outputs_config outputs;  // `outputs:`: the durable outbox and the destinations
  metrics_config metrics;            // `metrics:`
  cluster::cluster_config cluster;   // `cluster:`: NATS JetStream for `run --role` (scale-out)
  std::string log_level;     // `log_level:` (run): trace ... off; empty = info or --log-level
  std::string source_name;   // file the config came from
  std::string content_hash;  // hash of the file text, for metrics and logs
};

}  // namespace aftershock::daemon
