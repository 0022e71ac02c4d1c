#include "feedsim/endpoint.h"

namespace aftershock::feedsim {

namespace {

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding as URLs use it in queries ('+' is a space there). A malformed escape is kept
// as written: a token with a stray '%' should fail to match, not crash.
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_digit(s[i + 1]);
      const int lo = hex_digit(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i] == '+' ? ' ' : s[i];
  }
  return out;
}

std::vector<std::string> split_streams(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto slash = s.find('/');
    const std::string_view part = s.substr(0, slash);
    if (!part.empty()) out.emplace_back(part);
    if (slash == std::string_view::npos) break;
    s.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    const std::string_view k = pair.substr(0, eq);
    if (k == key) {
      return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<endpoint> route(std::string_view target, std::string* error) {
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query =
      q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

  endpoint e;
  e.path = std::string(path);
  if (path == "/v2/iex" || path == "/v2/sip" || path == "/v2/delayed_sip" || path == "/v2/test") {
    e.dialect = feeds::dialect::alpaca_stocks;
    return e;
  }
  if (path == "/v1beta1/news") {
    e.dialect = feeds::dialect::alpaca_news;
    return e;
  }
  if (path == "/stocks") {
    e.dialect = feeds::dialect::polygon_stocks;
    return e;
  }
  if (path == "/generic") {
    e.dialect = feeds::dialect::generic;
    return e;
  }
  if (path == "/ws" || path.starts_with("/ws/")) {
    e.dialect = feeds::dialect::binance;
    e.path = "/ws";
    if (path.size() > 3) e.binance_streams = split_streams(path.substr(4));
    return e;
  }
  if (path == "/stream") {
    e.dialect = feeds::dialect::binance;
    e.binance_combined = true;
    if (auto streams = query_param(query, "streams")) e.binance_streams = split_streams(*streams);
    return e;
  }
  if (path == "/" || path.empty()) {
    e.dialect = feeds::dialect::finnhub;
    e.path = "/";
    if (auto token = query_param(query, "token")) {
      e.token = std::move(*token);
      e.has_token = true;
    }
    return e;
  }
  if (error) *error = "no feed is served at " + std::string(path);
  return std::nullopt;
}

const char* known_paths() noexcept {
  return "/v2/iex /v2/sip /v2/delayed_sip /v2/test (Alpaca stocks), /v1beta1/news (Alpaca news), "
         "/stocks (Polygon), /ws/<stream> and /stream?streams=a/b (Binance), /?token=KEY "
         "(Finnhub), /generic";
}

}  // namespace aftershock::feedsim
