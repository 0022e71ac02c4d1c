// A local HTTP(S) server on 127.0.0.1 for delivery tests and the benchmark: it plays Slack,
// Discord, Telegram, Teams, webhooks or Alertmanager by answering each request through a
// scripted responder (200, 429 with Retry-After, 500 ...) and records every request with the
// time it arrived. Runs its own I/O thread; all methods are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aftershock::testing {

struct received_request {
  std::chrono::steady_clock::time_point at;  // when the request was fully read
  std::string method;
  std::string target;
  std::string body;
  std::string idempotency_key;
  std::string content_type;
  int status = 0;  // what the receiver answered
  std::chrono::steady_clock::time_point answered_at;
};

struct scripted_response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body = "ok";
};

/// A self-signed certificate for "localhost" and 127.0.0.1, made in memory (PEM).
struct test_certificate {
  std::string cert_pem;
  std::string key_pem;
};
test_certificate make_test_certificate();

class loopback_receiver {
 public:
  struct options {
    std::uint16_t port = 0;  // 0: any free port
    bool tls = false;
    test_certificate certificate;  // for tls
  };
  /// Given the request and how many requests came before it (all targets), returns the answer.
  using responder = std::function<scripted_response(const received_request&, std::size_t index)>;

  explicit loopback_receiver(options opts);
  loopback_receiver() : loopback_receiver(options{}) {}
  ~loopback_receiver();
  loopback_receiver(const loopback_receiver&) = delete;
  loopback_receiver& operator=(const loopback_receiver&) = delete;

  std::uint16_t port() const;
  /// http://127.0.0.1:PORT/path, or https://localhost:PORT/path with tls.
  std::string url(std::string_view path) const;
  void set_responder(responder r);
  std::vector<received_request> requests() const;
  std::size_t request_count() const;
  /// Waits until `pred(requests)` holds or `timeout` passes; returns whether it held.
  bool wait_for(const std::function<bool(const std::vector<received_request>&)>& pred,
                std::chrono::milliseconds timeout) const;
  /// Closes the listener and every connection (the "receiver is down" state).
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace aftershock::testing
