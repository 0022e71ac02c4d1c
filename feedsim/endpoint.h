// Which vendor a WebSocket upgrade is for, from its request target alone: the simulator serves
// each vendor on the vendor's own path (Alpaca /v2/iex, Polygon /stocks, Binance /ws/<stream>
// ...), so a config points at it by changing only the host. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "feeds/frame_parser.h"

namespace aftershock::feedsim {

struct endpoint {
  feeds::dialect dialect = feeds::dialect::generic;
  /// The path as routed ("/v2/iex", "/v1beta1/news", "/ws" ...): the unit that connection
  /// limits count in and the name used in logs.
  std::string path;
  /// Binance: events wrapped as {"stream":..,"data":..} (/stream?streams=, or SET_PROPERTY).
  bool binance_combined = false;
  /// Binance: the streams named by the URL (/ws/a@trade/b@trade or ?streams=a@trade/b@trade).
  std::vector<std::string> binance_streams;
  /// Finnhub: the ?token= value, percent-decoded; empty when absent.
  std::string token;
  bool has_token = false;
};

/// Routes a request target (path and query, as in the HTTP request line):
///   /v2/iex /v2/sip /v2/delayed_sip /v2/test -> Alpaca stocks
///   /v1beta1/news                           -> Alpaca news
///   /stocks                                 -> Polygon stocks
///   /ws, /ws/<stream>[/<stream>...]         -> Binance raw streams
///   /stream, /stream?streams=<s>/<s>...     -> Binance combined streams
///   /?token=KEY (or / alone)                -> Finnhub
///   /generic                                -> generic (no handshake)
/// nullopt, with the reason in `error`, for any other path (the server answers 404).
std::optional<endpoint> route(std::string_view target, std::string* error = nullptr);

/// The value of `key` in a query string ("a=1&b=2"), percent-decoded; nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

/// Every path route() accepts, for help text and 404 bodies.
const char* known_paths() noexcept;

}  // namespace aftershock::feedsim
