// Wiring of the Prometheus metrics and the /metrics, /healthz, /readyz endpoint for the
// daemon's commands (run, replay): the build's identity, the listen address from the command
// line or the config's `metrics:` section, and a clear log line saying where to look.
//
// Thread-safety: call from the controlling thread; the objects returned are documented in
// telemetry/metrics.h and telemetry/http_endpoint.h.
#pragma once

#include <memory>
#include <string>

#include "daemon/config_loader.h"
#include "daemon/live_runner.h"
#include "exporters/outbox_sink.h"
#include "telemetry/http_endpoint.h"
#include "telemetry/metrics.h"

namespace aftershock::daemon {

/// The metrics of one command, with its rules' info set. `mode`: "run" or "replay".
std::unique_ptr<telemetry::metrics> make_metrics(const loaded_config& loaded,
                                                 const std::string& mode);

/// Serves `m` on `options.listen`, logging "metrics: http://ADDR/metrics ..." (info) on
/// success. When listening fails: logs the error and returns null. `run` goes on without an
/// endpoint (metrics are not worth refusing to watch the markets); `replay` asked for one.
std::unique_ptr<telemetry::http_endpoint> serve_metrics(const telemetry::metrics& m,
                                                        telemetry::endpoint_options options,
                                                        const char* without = "");

/// The listen address a command uses: the command line's (`off` disables), else the config's
/// `metrics:` (enabled: listen; disabled: "off"). Empty `cli` means "not given".
std::string metrics_listen_address(const std::string& cli, const metrics_config& config);

/// `run`: feeds and queue from the runner, delivery from the outbox (may be null), and the
/// health checks: /healthz fails when the engine thread has not turned for 10 s (hung);
/// /readyz fails while a feed is not connected and authenticated (the detail lists them).
/// The runner and the outbox must outlive the endpoint.
std::unique_ptr<telemetry::http_endpoint> serve_run_metrics(telemetry::metrics& m,
                                                            const std::string& listen,
                                                            const live_runner& runner,
                                                            const exporters::outbox_sink* outbox);

}  // namespace aftershock::daemon
