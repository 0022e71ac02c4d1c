#include "feedsim/session_protocol.h"

#include <algorithm>

namespace aftershock::feedsim {

// ---- connection_registry --------------------------------------------------------------------

namespace {

std::string registry_key(std::string_view path, std::string_view key) {
  std::string k(path);
  k += '\n';  // never part of a path
  k += key;
  return k;
}

bool is_alpaca(feeds::dialect d) noexcept {
  return d == feeds::dialect::alpaca_stocks || d == feeds::dialect::alpaca_news;
}

bool needs_auth(feeds::dialect d) noexcept {
  return is_alpaca(d) || d == feeds::dialect::polygon_stocks;
}

rules::time_ns default_ping_interval(feeds::dialect d) noexcept {
  switch (d) {
    case feeds::dialect::alpaca_stocks:
    case feeds::dialect::alpaca_news:
      return 54 * rules::k_ns_per_s;  // measured by a third party (feeds.md §1.9)
    case feeds::dialect::finnhub:
      return 60 * rules::k_ns_per_s;  // "about every 1-2 min" (feeds.md §3.2)
    case feeds::dialect::binance:
      return 20 * rules::k_ns_per_s;  // documented (feeds.md §5)
    case feeds::dialect::polygon_stocks:  // undocumented: none
    case feeds::dialect::generic:
      return 0;
  }
  return 0;
}

}  // namespace

bool connection_registry::try_add(std::string_view path, std::string_view key,
                                  std::size_t limit) {
  std::size_t& n = counts_[registry_key(path, key)];
  if (limit > 0 && n >= limit) return false;
  ++n;
  return true;
}

void connection_registry::remove(std::string_view path, std::string_view key) {
  auto it = counts_.find(registry_key(path, key));
  if (it == counts_.end()) return;
  if (--it->second == 0) counts_.erase(it);
}

std::size_t connection_registry::count(std::string_view path, std::string_view key) const {
  auto it = counts_.find(registry_key(path, key));
  return it == counts_.end() ? 0 : it->second;
}

// ---- session_protocol -----------------------------------------------------------------------

session_protocol::session_protocol(endpoint ep, protocol_config config,
                                   connection_registry& registry)
    : endpoint_(std::move(ep)),
      config_(std::move(config)),
      registry_(registry),
      subs_(endpoint_.dialect) {}

session_protocol::~session_protocol() {
  if (registered_) registry_.remove(endpoint_.path, registered_key_);
}

int session_protocol::upgrade_status() const {
  if (endpoint_.dialect != feeds::dialect::finnhub) return 101;
  // Finnhub authenticates by the URL alone: a bad token never gets a WebSocket.
  if (!endpoint_.has_token || !credentials_ok(endpoint_.token, {})) return 401;
  return 101;
}

bool session_protocol::credentials_ok(std::string_view key, std::string_view secret) const {
  if (config_.reject_auth || key.empty()) return false;
  if (!config_.key.empty() && key != config_.key) return false;
  if (is_alpaca(endpoint_.dialect)) {
    if (secret.empty()) return false;
    if (!config_.secret.empty() && secret != config_.secret) return false;
  }
  return true;
}

void session_protocol::end(protocol_step& step, protocol_step::ending how, std::uint16_t code,
                           std::string reason) {
  step.end = how;
  step.close_code = code;
  step.close_reason = std::move(reason);
  ended_ = true;
}

protocol_step session_protocol::on_open(const handshake_info& info, rules::time_ns now) {
  protocol_step step;
  opened_ = true;
  const feeds::dialect d = endpoint_.dialect;
  msgpack_ = info.msgpack && is_alpaca(d);

  ping_interval_ =
      config_.ping_interval >= 0 ? config_.ping_interval : default_ping_interval(d);
  if (ping_interval_ > 0) next_ping_ = now + ping_interval_;
  if (d == feeds::dialect::binance) {
    pong_timeout_ = config_.pong_timeout >= 0 ? config_.pong_timeout
                    : config_.ping_interval > 0 ? 3 * config_.ping_interval
                                                : 60 * rules::k_ns_per_s;
  }

  switch (d) {
    case feeds::dialect::alpaca_stocks:
    case feeds::dialect::alpaca_news:
      step.send.push_back(R"([{"T":"success","msg":"connected"}])");
      if (!info.header_key.empty() || !info.header_secret.empty()) {
        // Header auth: the keys came with the upgrade, so no auth message is needed.
        if (!credentials_ok(info.header_key, info.header_secret)) {
          step.send.push_back(alpaca_error(402, "auth failed"));
          step.notes.push_back("header auth failed");
          end(step, protocol_step::ending::close, 1008, "auth failed");
          return step;
        }
        authenticate(info.header_key, step);
        return step;
      }
      auth_deadline_ = now + config_.auth_timeout;
      break;
    case feeds::dialect::polygon_stocks:
      step.send.push_back(polygon_status("connected", "Connected Successfully"));
      auth_deadline_ = now + config_.auth_timeout;
      break;
    case feeds::dialect::finnhub:
      authenticated_ = true;  // the token was checked at the upgrade
      break;
    case feeds::dialect::binance:
      subs_.binance_combined = endpoint_.binance_combined;
      for (const auto& s : endpoint_.binance_streams) subs_.channel("streams").add(s);
      break;
    case feeds::dialect::generic:
      break;
  }
  return step;
}

void session_protocol::authenticate(std::string_view key, protocol_step& step) {
  const bool alpaca = is_alpaca(endpoint_.dialect);
  if (!registry_.try_add(endpoint_.path, key, config_.connection_limit)) {
    step.notes.push_back("connection limit reached for this key");
    if (alpaca) {
      step.send.push_back(alpaca_error(406, "connection limit exceeded"));
    } else {
      step.send.push_back(polygon_status(
          "max_connections", "Maximum number of websocket connections exceeded."));
    }
    end(step, protocol_step::ending::close, 1008, "connection limit exceeded");
    return;
  }
  registered_ = true;
  registered_key_ = std::string(key);
  authenticated_ = true;
  auth_deadline_ = 0;
  step.send.push_back(alpaca ? R"([{"T":"success","msg":"authenticated"}])"
                             : polygon_status("auth_success", "authenticated"));
}

protocol_step session_protocol::on_message(const json_value* m, rules::time_ns /*now*/) {
  protocol_step step;
  if (ended_) return step;
  switch (endpoint_.dialect) {
    case feeds::dialect::alpaca_stocks:
    case feeds::dialect::alpaca_news:
      if (m == nullptr) {
        step.send.push_back(alpaca_error(400, "invalid syntax"));
      } else {
        alpaca_message(*m, step);
      }
      break;
    case feeds::dialect::polygon_stocks:
      if (m == nullptr) {
        step.send.push_back(polygon_status("error", "invalid message"));
      } else {
        polygon_message(*m, step);
      }
      break;
    case feeds::dialect::finnhub:
      if (m == nullptr) {
        step.send.push_back(R"({"type":"error","msg":"Invalid message"})");
      } else {
        finnhub_message(*m, step);
      }
      break;
    case feeds::dialect::binance:
      if (m == nullptr) {
        step.send.push_back(R"({"code":3,"msg":"Invalid JSON: the request could not be parsed"})");
      } else {
        binance_message(*m, step);
      }
      break;
    case feeds::dialect::generic:
      break;  // a one-way source: whatever the client says is ignored
  }
  return step;
}

// ---- Alpaca ---------------------------------------------------------------------------------

std::string session_protocol::alpaca_error(int code, std::string_view msg) {
  std::string out = R"([{"T":"error","code":)";
  out += std::to_string(code);
  out += R"(,"msg":)";
  append_json_string(out, msg);
  out += "}]";
  return out;
}

void session_protocol::alpaca_message(const json_value& m, protocol_step& step) {
  const auto action = m.string_field("action");
  if (!action) {
    step.send.push_back(alpaca_error(400, "invalid syntax"));
    return;
  }
  if (*action == "auth") {
    if (authenticated_) {
      step.send.push_back(alpaca_error(403, "already authenticated"));
      return;
    }
    const auto key = m.string_field("key");
    const auto secret = m.string_field("secret");
    if (!key || !secret || !credentials_ok(*key, *secret)) {
      step.send.push_back(alpaca_error(402, "auth failed"));
      step.notes.push_back("auth failed");
      end(step, protocol_step::ending::close, 1008, "auth failed");
      return;
    }
    authenticate(*key, step);
    return;
  }
  if (*action == "subscribe" || *action == "unsubscribe") {
    if (!authenticated_) {
      step.send.push_back(alpaca_error(401, "not authenticated"));
      return;
    }
    alpaca_subscription(m, *action == "subscribe", step);
    return;
  }
  step.send.push_back(alpaca_error(400, "invalid syntax"));
}

void session_protocol::alpaca_subscription(const json_value& m, bool add, protocol_step& step) {
  const auto& known = alpaca_channels(endpoint_.dialect);
  // Validate the whole request before changing anything: a bad request leaves the set as it
  // was (feeds.md §1.4: unknown channel or empty list -> 400).
  std::size_t channels = 0;
  for (const auto& [key, value] : m.fields) {
    if (key == "action") continue;
    // corrections/cancelErrors follow trades; a client that names them is not wrong.
    if (key == "corrections" || key == "cancelErrors") continue;
    if (std::find(known.begin(), known.end(), key) == known.end() || !value.is_array() ||
        value.items.empty() ||
        !std::all_of(value.items.begin(), value.items.end(),
                     [](const json_value& v) { return v.is_string() && !v.string.empty(); })) {
      step.send.push_back(alpaca_error(400, "invalid syntax"));
      return;
    }
    ++channels;
  }
  if (channels == 0) {
    step.send.push_back(alpaca_error(400, "invalid syntax"));
    return;
  }
  for (const auto& [key, value] : m.fields) {
    if (std::find(known.begin(), known.end(), key) == known.end()) continue;
    symbol_set& set = subs_.channel(key);
    for (const auto& s : value.items) {
      if (add) {
        set.add(s.string);
      } else {
        set.remove(s.string);
      }
    }
  }
  step.send.push_back(alpaca_ack());
}

std::string session_protocol::alpaca_ack() const {
  auto list = [&](std::string& out, std::string_view name, std::string_view from) {
    out += ',';
    append_json_string(out, name);
    out += ":[";
    if (const symbol_set* set = subs_.find(from)) {
      bool first = true;
      for (const auto& s : set->list()) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, s);
      }
    }
    out += ']';
  };
  std::string out = R"([{"T":"subscription")";
  if (endpoint_.dialect == feeds::dialect::alpaca_news) {
    list(out, "news", "news");
  } else {
    for (std::string_view ch : {"trades", "quotes", "bars", "updatedBars", "dailyBars",
                                "statuses", "lulds"}) {
      list(out, ch, ch);
    }
    // Alpaca lists these with trades: they are delivered with trades, not subscribed alone.
    list(out, "corrections", "trades");
    list(out, "cancelErrors", "trades");
    if (const symbol_set* set = subs_.find("imbalances"); set && !set->empty()) {
      list(out, "imbalances", "imbalances");
    }
  }
  out += "}]";
  return out;
}

// ---- Polygon --------------------------------------------------------------------------------

std::string session_protocol::polygon_status(std::string_view status, std::string_view message) {
  std::string out = R"([{"ev":"status","status":)";
  append_json_string(out, status);
  out += R"(,"message":)";
  append_json_string(out, message);
  out += "}]";
  return out;
}

void session_protocol::polygon_message(const json_value& m, protocol_step& step) {
  const auto action = m.string_field("action");
  const auto params = m.string_field("params");
  if (!action) {
    step.send.push_back(polygon_status("error", "invalid message"));
    return;
  }
  if (*action == "auth") {
    if (authenticated_) {
      step.send.push_back(polygon_status("error", "already authenticated"));
      return;
    }
    if (!params || !credentials_ok(*params, {})) {
      step.send.push_back(polygon_status("auth_failed", "authentication failed"));
      step.notes.push_back("auth failed");
      end(step, protocol_step::ending::close, 1008, "authentication failed");
      return;
    }
    authenticate(*params, step);
    return;
  }
  if (*action != "subscribe" && *action != "unsubscribe") {
    step.send.push_back(polygon_status("error", "unknown action"));
    return;
  }
  if (!authenticated_) {
    step.send.push_back(polygon_status("error", "not authenticated"));
    return;
  }
  const bool add = *action == "subscribe";
  std::string_view rest = params.value_or("");
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      // Every item names its channel: "T.NVDA", "AM.*" (never "T.NVDA,MSFT").
      const auto dot = item.find('.');
      if (dot == std::string_view::npos || dot == 0 || dot + 1 == item.size()) {
        step.send.push_back(polygon_status("error", "invalid subscription: " + std::string(item)));
      } else {
        symbol_set& set = subs_.channel(item.substr(0, dot));
        if (add) {
          set.add(item.substr(dot + 1));
        } else {
          set.remove(item.substr(dot + 1));
        }
        step.send.push_back(polygon_status(
            "success", std::string(add ? "subscribed to: " : "unsubscribed to: ") +
                           std::string(item)));
      }
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
}

// ---- Finnhub --------------------------------------------------------------------------------

void session_protocol::finnhub_message(const json_value& m, protocol_step& step) {
  const auto type = m.string_field("type");
  const auto symbol = m.string_field("symbol");
  if (!type || !symbol || symbol->empty()) {
    step.send.push_back(R"({"type":"error","msg":"Invalid message"})");
    return;
  }
  std::string_view channel;
  bool add = true;
  if (*type == "subscribe") {
    channel = "trades";
  } else if (*type == "unsubscribe") {
    channel = "trades";
    add = false;
  } else if (*type == "subscribe-news") {
    channel = "news";
  } else if (*type == "unsubscribe-news") {
    channel = "news";
    add = false;
  } else if (*type == "subscribe-pr") {
    channel = "pr";
  } else if (*type == "unsubscribe-pr") {
    channel = "pr";
    add = false;
  } else {
    step.send.push_back(R"({"type":"error","msg":"Invalid message"})");
    return;
  }
  // No acknowledgement: Finnhub sends none.
  if (add) {
    subs_.channel(channel).add(*symbol);
  } else {
    subs_.channel(channel).remove(*symbol);
  }
}

// ---- Binance --------------------------------------------------------------------------------

void session_protocol::binance_message(const json_value& m, protocol_step& step) {
  const json_value* id = m.find("id");
  const std::string id_json = id ? to_json(*id) : std::string("null");
  auto error = [&](int code, std::string_view msg) {
    std::string out = R"({"code":)" + std::to_string(code) + R"(,"msg":)";
    append_json_string(out, msg);
    out += R"(,"id":)" + id_json + "}";
    step.send.push_back(std::move(out));
  };
  auto result = [&](std::string_view result_json) {
    step.send.push_back(R"({"result":)" + std::string(result_json) + R"(,"id":)" + id_json + "}");
  };
  if (!m.is_object()) {
    error(3, "Invalid JSON: expected an object");
    return;
  }
  if (id != nullptr && !id->is_null() && !id->is_integer() && !id->is_string()) {
    error(2, "Invalid request: request ID must be an unsigned integer or a string");
    return;
  }
  const auto method = m.string_field("method");
  const json_value* params = m.find("params");
  if (!method) {
    error(2, "Invalid request: method is missing");
    return;
  }
  if (*method == "SUBSCRIBE" || *method == "UNSUBSCRIBE") {
    if (params == nullptr || !params->is_array() ||
        !std::all_of(params->items.begin(), params->items.end(),
                     [](const json_value& v) { return v.is_string() && !v.string.empty(); })) {
      error(2, "Invalid request: params must be a list of stream names");
      return;
    }
    symbol_set& set = subs_.channel("streams");
    for (const auto& s : params->items) {
      if (*method == "SUBSCRIBE") {
        set.add(s.string);
      } else {
        set.remove(s.string);
      }
    }
    result("null");
    return;
  }
  if (*method == "LIST_SUBSCRIPTIONS") {
    std::string list = "[";
    if (const symbol_set* set = subs_.find("streams")) {
      for (std::size_t i = 0; i < set->list().size(); ++i) {
        if (i) list += ',';
        append_json_string(list, set->list()[i]);
      }
    }
    list += ']';
    result(list);
    return;
  }
  if (*method == "SET_PROPERTY" || *method == "GET_PROPERTY") {
    const bool set = *method == "SET_PROPERTY";
    if (params == nullptr || !params->is_array() || params->items.size() != (set ? 2u : 1u) ||
        !params->items[0].is_string() || params->items[0].string != "combined" ||
        (set && params->items[1].type != json_value::kind::boolean)) {
      error(0, "Unknown property");
      return;
    }
    if (set) {
      subs_.binance_combined = params->items[1].boolean;
      result("null");
    } else {
      result(subs_.binance_combined ? "true" : "false");
    }
    return;
  }
  error(2, "Invalid request: unknown method");
}

// ---- time -----------------------------------------------------------------------------------

void session_protocol::on_pong(rules::time_ns /*now*/) { unanswered_since_ = 0; }

protocol_step session_protocol::on_tick(rules::time_ns now) {
  protocol_step step;
  if (ended_ || !opened_) return step;
  if (auth_deadline_ != 0 && !authenticated_ && now >= auth_deadline_) {
    auth_deadline_ = 0;
    step.notes.push_back("auth timeout");
    if (is_alpaca(endpoint_.dialect)) {
      step.send.push_back(alpaca_error(404, "auth timeout"));
    } else {
      step.send.push_back(polygon_status("auth_timeout", "No authentication request received."));
    }
    end(step, protocol_step::ending::close, 1008, "auth timeout");
    return step;
  }
  if (pong_timeout_ > 0 && unanswered_since_ != 0 && now - unanswered_since_ >= pong_timeout_) {
    step.notes.push_back("no pong");
    end(step, protocol_step::ending::abort, 1000, "no pong");
    return step;
  }
  if (ping_interval_ > 0 && now >= next_ping_) {
    if (endpoint_.dialect == feeds::dialect::finnhub) {
      step.send.push_back(R"({"type":"ping"})");
    } else {
      step.ws_ping = true;
      if (unanswered_since_ == 0) unanswered_since_ = now;
    }
    // The next one an interval after this one, or after now if the tick came late.
    next_ping_ += ping_interval_;
    if (next_ping_ <= now) next_ping_ = now + ping_interval_;
  }
  return step;
}

std::optional<rules::time_ns> session_protocol::next_deadline() const {
  if (ended_ || !opened_) return std::nullopt;
  std::optional<rules::time_ns> next;
  auto consider = [&](rules::time_ns t) {
    if (!next || t < *next) next = t;
  };
  if (auth_deadline_ != 0 && !authenticated_) consider(auth_deadline_);
  if (ping_interval_ > 0) consider(next_ping_);
  if (pong_timeout_ > 0 && unanswered_since_ != 0) consider(unanswered_since_ + pong_timeout_);
  return next;
}

bool session_protocol::streaming() const {
  if (ended_ || !opened_) return false;
  if (needs_auth(endpoint_.dialect) && !authenticated_) return false;
  return !subs_.empty();
}

}  // namespace aftershock::feedsim
