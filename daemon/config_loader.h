// Loads a YAML configuration from text (the caller reads the file) into a daemon_config and
// validates it completely, collecting every problem as FILE:LINE:COL: message, so one run of
// check-config lists all of them. Used by check-config, startup and SIGHUP reload alike.
// Stateless functions; thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.h"
#include "rules/compiled_rules.h"

namespace aftershock::daemon {

struct config_error {
  std::string file;
  int line = 0;    // 1-based; 0 if unknown
  int column = 0;  // 1-based; 0 if unknown
  std::string message;
  std::string to_string() const;  // "FILE:LINE:COL: message"
};

struct loaded_config {
  daemon_config config;
  std::shared_ptr<const rules::compiled_rules> compiled;  // null when errors is non-empty
  std::vector<config_error> errors;
  bool ok() const noexcept { return errors.empty(); }
};

/// Parses and validates `text`, naming it `source_name` in messages.
loaded_config load_config(std::string_view text, const std::string& source_name);

/// Reads the file at `path` and loads it; a missing or unreadable file is an error too.
loaded_config load_config_file(const std::string& path);

}  // namespace aftershock::daemon
