// SIGHUP for `aftershockd run`: read the configuration file again, validate it with the same
// loader startup uses, and hand back the new compiled rules for the engine to swap in. A file
// with problems changes nothing: every problem is logged as FILE:LINE:COL: message and the
// running configuration stays. Feeds and outputs are connected at start only, so a change
// there is reported as needing a restart (and not applied). Also the one-line service status
// systemd shows (STATUS=). Stateless functions; call from the controlling thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "daemon/live_runner.h"
#include "rules/compiled_rules.h"

namespace aftershock::daemon {

struct reload_outcome {
  bool ok = false;
  std::shared_ptr<const rules::compiled_rules> rules;  // set when ok
  daemon_config config;                                // the new configuration when ok
  std::vector<std::string> restart_needed;  // sections that changed but apply at restart only
  std::string summary;                      // one line for logs and STATUS=
};

/// Loads and validates `path`; on success the caller swaps `rules` into the engine.
reload_outcome prepare_reload(const std::string& path, const daemon_config& running);

/// "4 feeds: alpaca connected, polygon backoff; 1234 events, 5 alerts; config 1a2b..." for
/// systemd's STATUS= (systemctl status shows it).
std::string service_status(const runner_snapshot& s, const std::string& config_hash);

}  // namespace aftershock::daemon
