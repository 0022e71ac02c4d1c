// WebSocket URLs (ws:// and wss://) split into what a client connects to, and the host
// override that points every feed at a local simulator. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aftershock::feeds {

struct ws_url {
  bool tls = false;       // wss
  std::string host;       // without brackets for IPv6 literals
  std::string port;       // always set: "443" / "80" when the URL has none
  bool default_port = true;
  std::string path;       // at least "/"
  std::string query;      // without the '?', may be empty

  /// The request target: path plus "?query" when there is one.
  std::string target() const;
  /// The Host header value: host, plus ":port" when the port is not the scheme's default.
  std::string host_header() const;
  /// The URL rebuilt from its parts.
  std::string to_string() const;
};

/// Parses ws://host[:port][/path][?query] and wss://...; nullopt for anything else (other
/// schemes, userinfo, fragments, spaces, bad ports).
std::optional<ws_url> parse_ws_url(std::string_view url);

/// Replaces the URL's host and port with `host_port` ("127.0.0.1:18080", "localhost:9000" or
/// "[::1]:9000") and keeps scheme, path and query. nullopt if either does not parse.
std::optional<std::string> override_host(std::string_view url, std::string_view host_port);

}  // namespace aftershock::feeds
