#include "feeds/vendor_protocol.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include "rules/alert.h"

namespace aftershock::feeds {

namespace {

// Config name -> the vendor's wire name, per dialect.
struct channel_name {
  std::string_view config;
  std::string_view wire;
};

constexpr std::array<channel_name, 7> k_alpaca_stock_channels = {{
    {"trades", "trades"},
    {"quotes", "quotes"},
    {"bars", "bars"},
    {"updated_bars", "updatedBars"},
    {"daily_bars", "dailyBars"},
    {"statuses", "statuses"},
    {"lulds", "lulds"},
}};
constexpr std::array<channel_name, 1> k_alpaca_news_channels = {{{"news", "news"}}};
constexpr std::array<channel_name, 4> k_polygon_channels = {{
    {"trades", "T"},
    {"quotes", "Q"},
    {"bars", "AM"},
    {"second_bars", "A"},
}};
constexpr std::array<channel_name, 2> k_finnhub_channels = {{
    {"trades", "subscribe"},
    {"news", "subscribe-news"},
}};
constexpr std::array<channel_name, 2> k_binance_channels = {{
    {"trades", "trade"},
    {"agg_trades", "aggTrade"},
}};

std::vector<channel_name> channels_of(dialect d) {
  switch (d) {
    case dialect::alpaca_stocks:
      return {k_alpaca_stock_channels.begin(), k_alpaca_stock_channels.end()};
    case dialect::alpaca_news:
      return {k_alpaca_news_channels.begin(), k_alpaca_news_channels.end()};
    case dialect::polygon_stocks:
      return {k_polygon_channels.begin(), k_polygon_channels.end()};
    case dialect::finnhub:
      return {k_finnhub_channels.begin(), k_finnhub_channels.end()};
    case dialect::binance:
      return {k_binance_channels.begin(), k_binance_channels.end()};
    case dialect::generic:
      return {};
  }
  return {};
}

// A JSON string literal, quotes included (append_json_string writes them).
std::string json_string(std::string_view text) {
  std::string out;
  rules::append_json_string(out, text);
  return out;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::size_t pair_count(const channel_set& set) {
  std::size_t n = 0;
  for (const auto& [channel, symbols] : set) n += symbols.size();
  return n;
}

}  // namespace

std::vector<std::string> known_channels(dialect d) {
  std::vector<std::string> out;
  for (const channel_name& c : channels_of(d)) out.emplace_back(c.config);
  return out;
}

std::vector<std::string> default_channels(dialect d) {
  switch (d) {
    case dialect::alpaca_stocks:
      // Trades move prices, bars bring volume, statuses halts: what the rules use.
      return {"trades", "bars", "statuses"};
    case dialect::alpaca_news:
      return {"news"};
    case dialect::polygon_stocks:
      return {"trades", "bars"};
    case dialect::finnhub:
      return {"trades"};
    case dialect::binance:
      return {"trades"};
    case dialect::generic:
      return {};
  }
  return {};
}

std::string check_channel(dialect d, std::string_view channel) {
  const auto names = channels_of(d);
  for (const channel_name& c : names) {
    if (c.config == channel) return {};
  }
  if (names.empty()) {
    return std::string("the ") + to_string(d) +
           " dialect has no channels (use subscribe_message to send a custom request)";
  }
  std::string list;
  for (const channel_name& c : names) list += (list.empty() ? "" : ", ") + std::string(c.config);
  return "'" + std::string(channel) + "' is not one of the " + to_string(d) + " channels (" +
         list + ")";
}

rules::time_ns default_stale_after(dialect d) noexcept {
  switch (d) {
    case dialect::alpaca_stocks:
    case dialect::alpaca_news:
      return 180 * rules::k_ns_per_s;
    case dialect::polygon_stocks:
      return 120 * rules::k_ns_per_s;
    case dialect::finnhub:
      return 300 * rules::k_ns_per_s;
    case dialect::binance:
      return 60 * rules::k_ns_per_s;
    case dialect::generic:
      return 0;
  }
  return 0;
}

rules::time_ns default_max_connection_age(dialect d) noexcept {
  return d == dialect::binance ? 23 * rules::k_ns_per_hour : 0;
}

bool needs_key(dialect d) noexcept {
  return d == dialect::alpaca_stocks || d == dialect::alpaca_news ||
         d == dialect::polygon_stocks || d == dialect::finnhub;
}

bool needs_secret(dialect d) noexcept {
  return d == dialect::alpaca_stocks || d == dialect::alpaca_news;
}

double send_rate_limit(dialect d) noexcept {
  return d == dialect::binance ? k_binance_messages_per_second : 0.0;
}

channel_set desired_subscription(const session_config& config) {
  channel_set out;
  const auto names = channels_of(config.which);
  const std::vector<std::string> chosen =
      config.channels.empty() ? default_channels(config.which) : config.channels;
  std::vector<std::string> symbols = config.symbols;
  if (symbols.empty() && config.which == dialect::alpaca_news) symbols = {"*"};
  // Stable and duplicate-free, so the same config always sends the same bytes.
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (const std::string& s : symbols) {
    if (!s.empty() && seen.insert(s).second) unique.push_back(s);
  }
  for (const std::string& c : chosen) {
    for (const channel_name& n : names) {
      if (n.config == c && !unique.empty()) out[std::string(n.wire)] = unique;
    }
  }
  return out;
}

std::optional<connect_target> make_connect_target(const session_config& config,
                                                  std::string* error) {
  auto fail = [&](std::string why) -> std::optional<connect_target> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  std::optional<ws_url> url = parse_ws_url(config.url);
  if (!url) return fail("'" + redact_query(config.url, {"token", "apiKey", "key"}) +
                        "' is not a ws:// or wss:// URL");
  if (config.which == dialect::finnhub) {
    if (config.key.empty()) return fail("finnhub needs a key (its token goes in the URL)");
    url->query += (url->query.empty() ? "" : "&") + std::string("token=") + config.key.reveal();
  }
  if (config.which == dialect::binance && config.binance_mode == subscribe_mode::url) {
    const bool names_streams = (url->path.starts_with("/ws/") && url->path.size() > 4) ||
                               url->query.find("streams=") != std::string::npos;
    if (!names_streams) {
      const std::vector<std::string> streams = binance_streams(desired_subscription(config));
      if (streams.empty()) return fail("binance needs symbols to build its stream URL");
      if (streams.size() == 1 && url->path != "/stream") {
        url->path = "/ws/" + streams.front();
      } else {
        url->path = "/stream";
        std::string list;
        for (const std::string& s : streams) list += (list.empty() ? "" : "/") + s;
        url->query += (url->query.empty() ? "" : "&") + std::string("streams=") + list;
      }
    }
  }
  connect_target t;
  t.log_url = redact_query(url->to_string(), {"token", "apiKey", "key"});
  t.url = std::move(*url);
  return t;
}

std::string alpaca_auth_message(const secret& key, const secret& key_secret) {
  return "{\"action\":\"auth\",\"key\":" + json_string(key.reveal()) +
         ",\"secret\":" + json_string(key_secret.reveal()) + "}";
}

std::string alpaca_subscribe_message(const channel_set& desired) {
  std::string out = "{\"action\":\"subscribe\"";
  for (const auto& [channel, symbols] : desired) {
    out += ',' + json_string(channel) + ":[";
    for (std::size_t i = 0; i < symbols.size(); ++i) {
      if (i) out += ',';
      out += json_string(symbols[i]);
    }
    out += ']';
  }
  out += '}';
  return out;
}

std::string polygon_auth_message(const secret& key) {
  return "{\"action\":\"auth\",\"params\":" + json_string(key.reveal()) + "}";
}

std::string polygon_subscribe_message(const channel_set& desired) {
  std::string params;
  for (const auto& [channel, symbols] : desired) {
    for (const std::string& s : symbols) {
      if (!params.empty()) params += ',';
      params += channel + "." + s;
    }
  }
  return "{\"action\":\"subscribe\",\"params\":" + json_string(params) + "}";
}

std::vector<std::string> finnhub_subscribe_messages(const channel_set& desired) {
  std::vector<std::string> out;
  // Trades first: they are what the rules need soonest.
  for (const char* type : {"subscribe", "subscribe-news"}) {
    auto it = desired.find(type);
    if (it == desired.end()) continue;
    for (const std::string& s : it->second) {
      out.push_back("{\"type\":" + json_string(type) + ",\"symbol\":" + json_string(s) + "}");
    }
  }
  return out;
}

std::vector<std::string> binance_streams(const channel_set& desired) {
  std::vector<std::string> out;
  for (const auto& [channel, symbols] : desired) {
    for (const std::string& s : symbols) out.push_back(lowercase(s) + "@" + channel);
  }
  return out;
}

std::vector<std::string> binance_subscribe_messages(const std::vector<std::string>& streams,
                                                    std::size_t per_message, long first_id) {
  std::vector<std::string> out;
  per_message = std::max<std::size_t>(per_message, 1);
  long id = first_id;
  for (std::size_t i = 0; i < streams.size(); i += per_message) {
    std::string m = "{\"method\":\"SUBSCRIBE\",\"params\":[";
    for (std::size_t j = i; j < std::min(streams.size(), i + per_message); ++j) {
      if (j > i) m += ',';
      m += json_string(streams[j]);
    }
    m += "],\"id\":" + std::to_string(id++) + "}";
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<channel_set> parse_alpaca_subscription(std::string_view frame) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(frame.data(), frame.size()).get(doc) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::array arr;
  if (doc.get_array().get(arr) != simdjson::SUCCESS) return std::nullopt;
  for (simdjson::dom::element el : arr) {
    simdjson::dom::object obj;
    if (el.get_object().get(obj) != simdjson::SUCCESS) continue;
    std::string_view type;
    if (obj["T"].get_string().get(type) != simdjson::SUCCESS || type != "subscription") continue;
    channel_set out;
    for (auto field : obj) {
      if (field.key == "T") continue;
      simdjson::dom::array symbols;
      if (field.value.get_array().get(symbols) != simdjson::SUCCESS) continue;
      std::vector<std::string>& list = out[std::string(field.key)];
      for (simdjson::dom::element s : symbols) {
        std::string_view text;
        if (s.get_string().get(text) == simdjson::SUCCESS) list.emplace_back(text);
      }
    }
    return out;
  }
  return std::nullopt;
}

reconcile_result reconcile(const channel_set& desired, const channel_set& acknowledged) {
  reconcile_result r;
  for (const auto& [channel, symbols] : desired) {
    r.desired += symbols.size();
    auto it = acknowledged.find(channel);
    std::set<std::string_view> have;
    if (it != acknowledged.end()) have.insert(it->second.begin(), it->second.end());
    const bool all = have.count("*") > 0;
    for (const std::string& s : symbols) {
      if (all || have.count(s)) {
        ++r.acknowledged;
      } else {
        r.missing.push_back(channel + ":" + s);
      }
    }
  }
  return r;
}

failure_class classify_upgrade_status(int http_status) noexcept {
  if (http_status == 429) return failure_class::throttled;
  if (http_status >= 400 && http_status < 500) return failure_class::fatal;
  return failure_class::transient;
}

vendor_session::vendor_session(const session_config& config)
    : config_(config), desired_(desired_subscription(config)), desired_count_(pair_count(desired_)) {}

session_step vendor_session::on_open() {
  session_step step;
  switch (config_.which) {
    case dialect::alpaca_stocks:
    case dialect::alpaca_news:
    case dialect::polygon_stocks:
      // The server speaks first; auth waits for its greeting (auth_timeout runs meanwhile).
      phase_ = session_phase::awaiting_greeting;
      break;
    case dialect::finnhub:
    case dialect::binance:
    case dialect::generic:
      // No auth message: Finnhub's token is in the URL (a bad one fails the upgrade),
      // Binance and generic sources need none.
      authenticated_ = true;
      step = subscribe();
      break;
  }
  return step;
}

session_step vendor_session::subscribe() {
  session_step step;
  switch (config_.which) {
    case dialect::alpaca_stocks:
    case dialect::alpaca_news:
      if (desired_.empty()) {
        phase_ = session_phase::streaming;
        break;
      }
      step.send.push_back(alpaca_subscribe_message(desired_));
      phase_ = session_phase::subscribing;
      break;
    case dialect::polygon_stocks:
      if (desired_.empty()) {
        phase_ = session_phase::streaming;
        break;
      }
      step.send.push_back(polygon_subscribe_message(desired_));
      phase_ = session_phase::subscribing;
      break;
    case dialect::finnhub:
      step.send = finnhub_subscribe_messages(desired_);
      acknowledged_ = desired_count_;  // Finnhub never acks; assume what we sent
      phase_ = session_phase::streaming;
      break;
    case dialect::binance:
      if (config_.binance_mode == subscribe_mode::message) {
        const auto streams = binance_streams(desired_);
        step.send = binance_subscribe_messages(streams, k_binance_streams_per_message, 1);
        for (std::size_t i = 0; i < streams.size(); i += k_binance_streams_per_message) {
          binance_pending_.push_back(
              std::min(k_binance_streams_per_message, streams.size() - i));
        }
        phase_ = step.send.empty() ? session_phase::streaming : session_phase::subscribing;
      } else {
        acknowledged_ = desired_count_;  // the URL is the subscription
        phase_ = session_phase::streaming;
      }
      break;
    case dialect::generic:
      if (!config_.subscribe_message.empty()) step.send.push_back(config_.subscribe_message);
      phase_ = session_phase::streaming;
      break;
  }
  step.notes.push_back("subscribing to " + std::to_string(desired_count_) +
                       " symbol-channel pair" + (desired_count_ == 1 ? "" : "s"));
  return step;
}

session_step vendor_session::on_frame(std::string_view frame, const parse_result& parsed) {
  session_step step;
  for (const control_message& c : parsed.controls) {
    on_control(c, frame, step);
    if (step.fail) return step;  // nothing after a fatal message matters
  }
  if (parsed.events > 0 && phase_ == session_phase::subscribing) phase_ = session_phase::streaming;
  return step;
}

void vendor_session::on_control(const control_message& c, std::string_view frame,
                                session_step& step) {
  using kind = control_message::kind;
  const bool alpaca = config_.which == dialect::alpaca_stocks || config_.which == dialect::alpaca_news;
  const bool polygon = config_.which == dialect::polygon_stocks;
  const std::string code = c.code ? " (" + std::to_string(c.code) + ")" : std::string();
  switch (c.what) {
    case kind::greeting:
      if (phase_ == session_phase::awaiting_greeting) {
        if (alpaca) {
          step.send.push_back(alpaca_auth_message(config_.key, config_.key_secret));
        } else if (polygon) {
          step.send.push_back(polygon_auth_message(config_.key));
        }
        phase_ = session_phase::authenticating;
      }
      break;
    case kind::authenticated:
      if (!authenticated_) {
        authenticated_ = true;
        step.notes.push_back("authenticated");
        session_step sub = subscribe();
        for (auto& m : sub.send) step.send.push_back(std::move(m));
        for (auto& n : sub.notes) step.notes.push_back(std::move(n));
      }
      break;
    case kind::auth_failed:
      step.fail = failure{failure_class::fatal,
                          "authentication failed" + code + ": " + c.message +
                              " (check the feed's key and secret)"};
      break;
    case kind::connection_limit:
      step.fail = failure{failure_class::throttled,
                          "connection limit" + code + ": " + c.message +
                              " (another session with these keys is open)"};
      break;
    case kind::server_shutdown:
      step.reconnect_now = true;
      step.notes.push_back("server announced shutdown: reconnecting now");
      break;
    case kind::subscription:
      if (alpaca) {
        if (std::optional<channel_set> acked = parse_alpaca_subscription(frame)) {
          const reconcile_result r = reconcile(desired_, *acked);
          acknowledged_ = r.acknowledged;
          if (!r.missing.empty()) {
            std::string list;
            for (std::size_t i = 0; i < r.missing.size() && i < 10; ++i) {
              list += (i ? ", " : "") + r.missing[i];
            }
            if (r.missing.size() > 10) list += ", ...";
            step.warnings.push_back("subscription ack lacks " + std::to_string(r.missing.size()) +
                                    " of " + std::to_string(r.desired) + " pairs: " + list);
          } else {
            step.notes.push_back("subscription acknowledged: " + std::to_string(r.acknowledged) +
                                 " pairs");
          }
        }
      } else if (polygon) {
        acknowledged_ = std::min(acknowledged_ + 1, desired_count_);  // one ack per item
      } else if (config_.which == dialect::binance && !binance_pending_.empty()) {
        acknowledged_ = std::min(acknowledged_ + binance_pending_.front(), desired_count_);
        binance_pending_.erase(binance_pending_.begin());
      }
      if (phase_ == session_phase::subscribing) phase_ = session_phase::streaming;
      break;
    case kind::error:
      if (alpaca) {
        switch (c.code) {
          case 408:  // v2 not enabled
          case 409:  // insufficient subscription: the plan lacks this feed
          case 410:  // invalid subscribe action for this feed
          case 411:  // insufficient scope
            step.fail = failure{failure_class::fatal, "refused" + code + ": " + c.message +
                                                          " (the account or plan does not allow "
                                                          "this feed)"};
            return;
          case 404:  // auth timeout: we were too slow; a new connection will do
          case 407:  // slow client: the server is about to drop us
          case 500:
          case 401:  // not authenticated: our sequence went wrong; start over
            step.fail = failure{failure_class::transient, "vendor error" + code + ": " + c.message};
            return;
          default:  // 400 invalid syntax, 403 already authenticated, 405 symbol limit
            break;
        }
      } else if (polygon && !authenticated_) {
        // auth_timeout and errors before auth leave nothing to continue with.
        step.fail = failure{failure_class::transient, "vendor error before auth: " + c.message};
        return;
      }
      step.warnings.push_back("vendor error" + code + ": " + c.message);
      break;
    case kind::ping:
    case kind::other_status:
      break;
  }
}

}  // namespace aftershock::feeds
