// The daemon's HTTP endpoint: GET /metrics (the Prometheus text format), /healthz (liveness:
// the process and its engine thread are turning) and /readyz (readiness: what the daemon
// needs to do its job is up), on one port (default 127.0.0.1:9464; loopback unless
// configured otherwise).
//
// Why not prometheus::Exposer: it serves collectables only, with no way to add other paths,
// and health checks belong on the same port as the metrics. So this is the civetweb server
// Exposer itself wraps, with three handlers; /metrics renders the metrics object with
// prometheus-cpp's TextSerializer, as Exposer does.
//
// Thread-safety: constructed and destroyed on one thread; the health callbacks and the
// metrics are called from civetweb's worker threads (they must be thread-safe); address(),
// scrapes() and wait_for_scrapes() from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "telemetry/metrics.h"

namespace aftershock::telemetry {

/// A health check's answer: 200 with `detail` when ok, else 503 with `detail`.
struct health {
  bool ok = true;
  std::string detail;
};

struct endpoint_options {
  std::string listen = "127.0.0.1:9464";  // IPv4:PORT or [IPv6]:PORT; port 0 picks one
  std::function<health()> live;           // /healthz; null: always ok
  std::function<health()> ready;          // /readyz; null: always ok
};

/// Checks a listen address: "127.0.0.1:9464", "0.0.0.0:9464", "[::1]:9464" (port 0..65535).
bool valid_listen_address(const std::string& text, std::string* why = nullptr);

class http_endpoint {
 public:
  /// Starts listening. Throws std::runtime_error naming the address when it cannot.
  http_endpoint(const metrics& m, endpoint_options options);
  ~http_endpoint();  // stops the server (civetweb takes up to ~2 s to join its threads)
  http_endpoint(const http_endpoint&) = delete;
  http_endpoint& operator=(const http_endpoint&) = delete;

  /// The address actually listened on ("127.0.0.1:41234"), the port resolved.
  const std::string& address() const noexcept;
  /// GET /metrics requests served so far.
  std::uint64_t scrapes() const noexcept;
  /// Waits until at least `count` scrapes were served; false on timeout.
  bool wait_for_scrapes(std::uint64_t count, std::chrono::milliseconds timeout) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace aftershock::telemetry
