// Wiring of the `outputs:` section for the daemon's commands: where the outbox lives and how
// to build the outbox sink (replay --deliver, run, test-notify share it). Stateless; thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "exporters/outbox_sink.h"

namespace aftershock::daemon {

/// The outbox's state directory: the command-line flag, else outputs.outbox.state_dir, else
/// $STATE_DIRECTORY (systemd's StateDirectory=, first entry). Empty if none is set.
std::string outbox_state_dir(const std::string& flag, const exporters::outputs_config& outputs);

/// Builds the sink for every configured destination, or nullptr after printing each problem
/// (unresolvable secrets, unusable state directory) to stderr.
std::unique_ptr<exporters::outbox_sink> make_outbox_sink(const exporters::outputs_config& outputs,
                                                         const std::string& state_dir);

/// One line per destination for the end of a command: delivered, rate limited, retried, left.
void print_delivery_summary(const exporters::delivery_snapshot& s, std::size_t undelivered);

}  // namespace aftershock::daemon
