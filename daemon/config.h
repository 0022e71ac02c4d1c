// The daemon's whole configuration as plain values: the rules engine's part plus what only the
// daemon needs (feeds, outputs). Filled by config_loader; plain aggregate, safe to copy.
#pragma once

#include <string>
#include <vector>

#include "rules/rules_config.h"

namespace aftershock::daemon {

/// One configured feed connection (used by `run`; `replay` only needs the dialect names).
struct feed_config {
  std::string name;      // "alpaca-stocks-sip"
  std::string dialect;   // "alpaca-stocks"
  std::string url;       // "wss://stream.data.alpaca.markets/v2/sip"
  std::vector<std::string> symbols;
};

struct daemon_config {
  rules::rules_config rules;
  std::vector<feed_config> feeds;
  std::string source_name;   // file the config came from
  std::string content_hash;  // hash of the file text, for metrics and logs
};

}  // namespace aftershock::daemon
