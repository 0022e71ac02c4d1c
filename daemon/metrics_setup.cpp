#include "daemon/metrics_setup.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "daemon/build_info.h"
#include "telemetry/feed_samples.h"

namespace aftershock::daemon {

std::unique_ptr<telemetry::metrics> make_metrics(const loaded_config& loaded,
                                                 const std::string& mode) {
  telemetry::metrics_options options;
  options.max_extra_symbols = loaded.config.metrics.max_extra_symbols;
  options.build = {AFTERSHOCK_VERSION, AFTERSHOCK_COMMIT, AFTERSHOCK_BUILD_TYPE, AFTERSHOCK_COMPILER};
  options.mode = mode;
  auto m = std::make_unique<telemetry::metrics>(std::move(options));
  if (loaded.compiled) m->set_rules(loaded.config.content_hash, *loaded.compiled);
  return m;
}

std::unique_ptr<telemetry::http_endpoint> serve_metrics(const telemetry::metrics& m,
                                                        telemetry::endpoint_options options,
                                                        const char* without) {
  try {
    auto endpoint = std::make_unique<telemetry::http_endpoint>(m, std::move(options));
    spdlog::info("metrics: http://{0}/metrics (health: http://{0}/healthz, "
                 "http://{0}/readyz)", endpoint->address());
    return endpoint;
  } catch (const std::exception& e) {
    spdlog::error("{}{}", e.what(), without);
    return nullptr;
  }
}

namespace {
rules::time_ns wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

std::string metrics_listen_address(const std::string& cli, const metrics_config& config) {
  if (!cli.empty()) return cli;
  return config.enabled ? config.listen : "off";
}

std::unique_ptr<telemetry::http_endpoint> serve_run_metrics(telemetry::metrics& m,
                                                            const std::string& listen,
                                                            const live_runner& runner,
                                                            const exporters::outbox_sink* outbox) {
  const rules::time_ns started = wall_now_ns();
  m.set_pipeline_source([&runner, started] {
    const runner_snapshot s = runner.snapshot();
    const rules::time_ns now = wall_now_ns();
    telemetry::pipeline_sample p;
    for (const feed_snapshot& f : s.feeds) {
      p.feeds.push_back(telemetry::sample_of(f.session, f.dropped_events, now, started));
    }
    p.queue_depth = s.queue_depth;
    p.queue_capacity = s.queue_capacity;
    p.queue_dropped_frames = s.queue_dropped;
    return p;
  });
  if (outbox) m.set_delivery_source([outbox] { return outbox->stats(); });
  telemetry::endpoint_options options;
  options.listen = listen;
  options.live = [&m] {
    const double silent = m.engine_silence_seconds();
    if (silent > 10) {
      return telemetry::health{false, fmt::format("the engine thread has not turned for {:.0f} s",
                                                  silent)};
    }
    return telemetry::health{true, "engine turning"};
  };
  options.ready = [&runner] {
    const runner_snapshot s = runner.snapshot();
    std::string down;
    for (const feed_snapshot& f : s.feeds) {
      if (f.session.connected && f.session.authenticated) continue;
      down += (down.empty() ? "" : ", ") + f.session.name + " (" +
              feeds::to_string(f.session.state) + ")";
    }
    if (!down.empty()) return telemetry::health{false, "feeds not connected: " + down};
    return telemetry::health{true, std::to_string(s.feeds.size()) + " feeds connected"};
  };
  return serve_metrics(m, std::move(options), "; running without the metrics endpoint");
}

}  // namespace aftershock::daemon
