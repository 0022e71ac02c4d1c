// An HTTP exchange as plain values, so that payload building and response classification stay
// pure and testable without sockets (http_client does the I/O). Value types; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace aftershock::exporters {

struct http_request {
  std::string url;  // full URL, secrets resolved: never log it (redact_url)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "application/json";
};

/// Why no HTTP status came back.
enum class transport_error : std::uint8_t {
  none,
  bad_url,
  resolve,
  connect,
  tls,      // handshake or certificate verification failed
  timeout,  // the request's deadline passed
  io,       // connection reset, malformed response, ...
};
const char* to_string(transport_error e) noexcept;

struct http_response {
  int status = 0;  // 0 when transport != none
  transport_error transport = transport_error::none;
  std::string error;  // transport detail for logs (never contains the URL)
  std::string body;   // bounded by the client
  // The headers delivery decisions need.
  std::string retry_after;            // Retry-After
  std::string ratelimit_remaining;    // X-RateLimit-Remaining (Discord)
  std::string ratelimit_reset_after;  // X-RateLimit-Reset-After (Discord, seconds)
  bool ok() const noexcept { return status >= 200 && status < 300; }
};

}  // namespace aftershock::exporters
