#include "feeds/ws_url.h"

#include <charconv>

namespace aftershock::feeds {

std::string ws_url::target() const { return query.empty() ? path : path + "?" + query; }

std::string ws_url::host_header() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + host + "]" : host;
  if (!default_port) h += ":" + port;
  return h;
}

std::string ws_url::to_string() const {
  return std::string(tls ? "wss://" : "ws://") + host_header() + target();
}

namespace {

bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  return ec == std::errc{} && ptr == p.data() + p.size() && v > 0 && v <= 65535;
}

// "host", "host:port", "[v6]", "[v6]:port" -> host and port (empty if absent).
bool split_authority(std::string_view authority, std::string& host, std::string& port) {
  if (authority.empty()) return false;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (rest.empty()) {
      port.clear();
      return true;
    }
    if (rest.front() != ':' || !valid_port(rest.substr(1))) return false;
    port = std::string(rest.substr(1));
    return true;
  }
  const std::size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    host = std::string(authority);
    port.clear();
  } else {
    host = std::string(authority.substr(0, colon));
    if (!valid_port(authority.substr(colon + 1))) return false;
    port = std::string(authority.substr(colon + 1));
  }
  if (host.empty()) return false;
  for (char c : host) {  // a DNS name or an IPv4 literal
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<ws_url> parse_ws_url(std::string_view url) {
  ws_url out;
  if (url.starts_with("wss://")) {
    out.tls = true;
    url.remove_prefix(6);
  } else if (url.starts_with("ws://")) {
    url.remove_prefix(5);
  } else {
    return std::nullopt;
  }
  for (char c : url) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '#') return std::nullopt;
  }
  const std::size_t end = url.find_first_of("/?");
  const std::string_view authority = url.substr(0, end);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no userinfo
  std::string port;
  if (!split_authority(authority, out.host, port)) return std::nullopt;
  out.default_port = port.empty();
  out.port = port.empty() ? (out.tls ? "443" : "80") : port;
  std::string_view rest = end == std::string_view::npos ? std::string_view() : url.substr(end);
  const std::size_t q = rest.find('?');
  out.path = std::string(rest.substr(0, q));
  if (out.path.empty()) out.path = "/";
  if (q != std::string_view::npos) out.query = std::string(rest.substr(q + 1));
  return out;
}

std::optional<std::string> override_host(std::string_view url, std::string_view host_port) {
  std::optional<ws_url> u = parse_ws_url(url);
  if (!u) return std::nullopt;
  std::string host, port;
  if (!split_authority(host_port, host, port)) return std::nullopt;
  u->host = host;
  u->default_port = port.empty();
  u->port = port.empty() ? (u->tls ? "443" : "80") : port;
  return u->to_string();
}

}  // namespace aftershock::feeds
