// Moves alerts from the outbox to their destinations. One I/O thread runs one coroutine per
// destination on its own strand: take the oldest synced alerts (grouped by the destination's
// window), wait for the rate limiter, render, send with a deadline, then record the outcome in
// the outbox, honour a 429's wait, or back off with jitter. One message in flight per
// destination, so alerts arrive in order. Alertmanager destinations also re-send their firing
// alerts every resend_interval and end them on resolve.
//
// Thread-safety: start(), stop() and stats() may be called from any thread; everything else
// runs on the service's own thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "exporters/delivery_stats.h"
#include "exporters/outbox.h"
#include "exporters/outputs_config.h"
#include "exporters/payload.h"
#include "exporters/rate_limit.h"

namespace aftershock::exporters {

/// A destination ready to use: secrets resolved, URL complete, limits decided.
struct destination_runtime {
  destination_config config;
  std::string url;  // complete request URL (secret): never log it
  std::vector<std::pair<std::string, std::string>> headers;  // resolved extra headers
  std::string endpoint;                                      // redacted URL for logs and metrics
  render_options render;
  destination_limits limits{};
  retry_policy retry;
};

/// Builds the HTTP request for a rendered body: content type, the Idempotency-Key (the alert
/// id, or the ids of a grouped message joined by ','), extra headers.
http_request make_request(const destination_runtime& d, std::string body,
                          std::string idempotency_key);

class delivery_service {
 public:
  delivery_service(outbox& box, std::vector<destination_runtime> destinations);
  ~delivery_service();
  delivery_service(const delivery_service&) = delete;
  delivery_service& operator=(const delivery_service&) = delete;

  /// Starts the I/O thread; delivery of anything already in the outbox begins at once.
  void start();
  /// Stops delivering (what is in flight is abandoned and stays in the outbox) and joins the
  /// thread, waiting at most `grace` for in-flight requests to notice. Idempotent.
  void stop(std::chrono::steady_clock::duration grace = std::chrono::seconds(2));

  std::vector<destination_stats> stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace aftershock::exporters
