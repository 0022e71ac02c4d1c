#include "daemon/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "feeds/frame_parser.h"
#include "feeds/secret.h"
#include "feeds/vendor_protocol.h"
#include "feeds/ws_url.h"
#include "rules/engine.h"
#include "telemetry/http_endpoint.h"

namespace aftershock::daemon {

std::string config_error::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (column > 0) out += ':' + std::to_string(column);
  }
  out += ": " + message;
  return out;
}

namespace {

// Walks the YAML tree with one helper per value type. Every problem is collected (never
// thrown), and every visited path remembers its mark so that problems found later by the
// rules compiler ("rules[2].window") can be located in the file too.
class reader {
 public:
  explicit reader(std::string file) : file_(std::move(file)) {}

  std::vector<config_error>& errors() { return errors_; }

  void error(const YAML::Node& at, const std::string& message) {
    const YAML::Mark m = at.Mark();
    errors_.push_back({file_, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0,
                       message});
  }
  /// Reads of included data files (calendars) report against that file while it is read.
  const std::string& file() const { return file_; }
  std::string included_text;  // text of included data files, for the content hash
  void set_file(std::string file) { file_ = std::move(file); }
  void error_at_path(const std::string& path, const std::string& message) {
    // Use the deepest remembered ancestor of the path.
    std::string p = path;
    while (!p.empty()) {
      auto it = marks_.find(p);
      if (it != marks_.end()) {
        errors_.push_back({it->second.first, it->second.second.line + 1,
                           it->second.second.column + 1, message});
        return;
      }
      const std::size_t cut = p.find_last_of(".[");
      p = cut == std::string::npos ? std::string() : p.substr(0, cut);
    }
    errors_.push_back({file_, 0, 0, message});
  }
  void remember(const std::string& path, const YAML::Node& node) {
    if (node.Mark().line >= 0) marks_[path] = {file_, node.Mark()};
  }

  // A map with only known keys. Unknown and duplicate keys are reported; returns false if the
  // node is not a map.
  bool check_map(const YAML::Node& node, const std::string& path,
                 const std::set<std::string>& known) {
    remember(path, node);
    if (!node.IsMap()) {
      error(node, path + " must be a mapping (key: value lines)");
      return false;
    }
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
      if (!seen.insert(key).second) {
        error(it->first, "duplicate key '" + key + "' in " + path);
        continue;
      }
      if (!known.count(key)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        error(it->first, "unknown key '" + key + "' in " + path + " (expected one of: " + list + ")");
      }
      remember(path.empty() ? key : path + "." + key, it->second);
    }
    return true;
  }

  std::optional<std::string> string(const YAML::Node& node, const std::string& path) {
    remember(path, node);
    if (!node.IsScalar()) {
      error(node, path + " must be a text value");
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<double> number(const YAML::Node& node, const std::string& path) {
    auto text = string(node, path);
    if (!text) return std::nullopt;
    double v = 0;
    const char* b = text->data();
    const char* e = b + text->size();
    auto [ptr, ec] = std::from_chars(b, e, v);
    if (ec != std::errc{} || ptr != e || !std::isfinite(v)) {
      error(node, path + " must be a number, not '" + *text + "'");
      return std::nullopt;
    }
    return v;
  }

  std::optional<rules::time_ns> duration(const YAML::Node& node, const std::string& path) {
    auto text = string(node, path);
    if (!text) return std::nullopt;
    auto d = rules::parse_duration(*text);
    if (!d) {
      error(node, path + " must be a duration such as 90s, 15m, 72h or 2d, not '" + *text + "'");
    }
    return d;
  }

  std::vector<std::string> strings(const YAML::Node& node, const std::string& path) {
    remember(path, node);
    std::vector<std::string> out;
    if (!node.IsSequence()) {
      error(node, path + " must be a list such as [a, b]");
      return out;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      if (auto s = string(node[i], path + "[" + std::to_string(i) + "]")) out.push_back(*s);
    }
    return out;
  }

  // Calls fn(item, path) for each element of a sequence.
  void each(const YAML::Node& node, const std::string& path,
            const std::function<void(const YAML::Node&, const std::string&)>& fn) {
    remember(path, node);
    if (!node.IsSequence()) {
      error(node, path + " must be a list (lines starting with '- ')");
      return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      remember(item_path, node[i]);
      fn(node[i], item_path);
    }
  }

 private:
  std::string file_;
  std::vector<config_error> errors_;
  std::map<std::string, std::pair<std::string, YAML::Mark>> marks_;
};

// A path relative to the directory of `base_file` (absolute paths are kept).
std::string resolve_path(const std::string& base_file, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const std::size_t slash = base_file.find_last_of('/');
  return slash == std::string::npos ? path : base_file.substr(0, slash + 1) + path;
}

bool read_text_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = std::move(text).str();
  return true;
}

// "09:30" -> 570.
std::optional<int> parse_clock(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  int h = 0, m = 0;
  if (std::from_chars(s.data(), s.data() + 2, h).ec != std::errc{} ||
      std::from_chars(s.data() + 3, s.data() + 5, m).ec != std::errc{}) {
    return std::nullopt;
  }
  if (h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

// "2025-01-20" -> days since epoch.
std::optional<std::int64_t> parse_date(std::string_view s) {
  auto t = rules::parse_rfc3339(std::string(s) + "T00:00:00Z");
  if (!t) return std::nullopt;
  return *t / rules::k_ns_per_day;
}

std::vector<rules::session_window> read_windows(reader& r, const YAML::Node& node,
                                                const std::string& path) {
  std::vector<rules::session_window> out;
  const auto items = r.strings(node, path);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string& w = items[i];
    const std::size_t dash = w.find('-');
    std::optional<int> a, b;
    if (dash != std::string::npos) {
      a = parse_clock(w.substr(0, dash));
      b = parse_clock(w.substr(dash + 1));
    }
    if (!a || !b || *a >= *b) {
      r.error(node[i], path + "[" + std::to_string(i) + "] must be a local time range such as "
                       "\"09:30-16:00\", not '" + w + "'");
      continue;
    }
    out.push_back({*a, *b});
  }
  return out;
}

void read_exchange(reader& r, const YAML::Node& n, const std::string& path,
                   rules::rules_config& cfg) {
  if (!r.check_map(n, path, {"mic", "time_zone", "tz_rule", "suffixes", "pre_market", "regular",
                             "after_hours", "holidays", "early_closes", "weekend"})) {
    return;
  }
  rules::exchange_spec ex;
  if (n["mic"]) ex.mic = r.string(n["mic"], path + ".mic").value_or("");
  else r.error(n, path + " needs mic (e.g. XNYS)");
  if (n["time_zone"]) ex.time_zone = r.string(n["time_zone"], path + ".time_zone").value_or("");
  if (n["tz_rule"]) ex.tz_rule = r.string(n["tz_rule"], path + ".tz_rule").value_or("");
  else r.error(n, path + " needs tz_rule, a POSIX TZ rule such as EST5EDT,M3.2.0,M11.1.0");
  if (n["suffixes"]) ex.suffixes = r.strings(n["suffixes"], path + ".suffixes");
  if (n["pre_market"]) ex.pre_market = read_windows(r, n["pre_market"], path + ".pre_market");
  if (n["regular"]) ex.regular = read_windows(r, n["regular"], path + ".regular");
  if (n["after_hours"]) ex.after_hours = read_windows(r, n["after_hours"], path + ".after_hours");
  if (n["holidays"]) {
    const auto days = r.strings(n["holidays"], path + ".holidays");
    for (std::size_t i = 0; i < days.size(); ++i) {
      if (auto d = parse_date(days[i])) ex.holidays.insert(*d);
      else r.error(n["holidays"][i], path + ".holidays[" + std::to_string(i) +
                                         "] must be a date such as 2025-01-20");
    }
  }
  if (n["early_closes"]) {
    const YAML::Node ec = n["early_closes"];
    if (!ec.IsMap()) {
      r.error(ec, path + ".early_closes must map dates to close times (2025-07-03: \"13:00\")");
    } else {
      for (auto it = ec.begin(); it != ec.end(); ++it) {
        auto d = parse_date(it->first.Scalar());
        auto c = it->second.IsScalar() ? parse_clock(it->second.Scalar()) : std::nullopt;
        if (!d || !c) {
          r.error(it->first, path + ".early_closes entries must look like 2025-07-03: \"13:00\"");
          continue;
        }
        ex.early_closes[*d] = *c;
      }
    }
  }
  if (n["weekend"]) {
    ex.weekend.clear();
    const auto days = r.strings(n["weekend"], path + ".weekend");
    static const std::map<std::string, unsigned> k_days{{"sun", 0}, {"mon", 1}, {"tue", 2},
                                                         {"wed", 3}, {"thu", 4}, {"fri", 5},
                                                         {"sat", 6}};
    for (std::size_t i = 0; i < days.size(); ++i) {
      auto it = k_days.find(days[i]);
      if (it == k_days.end()) {
        r.error(n["weekend"][i], path + ".weekend entries are sun, mon, ... sat");
      } else {
        ex.weekend.push_back(it->second);
      }
    }
  }
  cfg.exchanges.push_back(std::move(ex));
}

void read_symbol(reader& r, const YAML::Node& n, const std::string& path, rules::rules_config& cfg) {
  if (!r.check_map(n, path, {"symbol", "name", "exchange", "aliases", "ambiguous_aliases",
                             "context", "negative"})) {
    return;
  }
  rules::symbol_spec s;
  if (n["symbol"]) s.entity.symbol = r.string(n["symbol"], path + ".symbol").value_or("");
  else r.error(n, path + " needs symbol (e.g. NVDA)");
  if (n["name"]) s.entity.name = r.string(n["name"], path + ".name").value_or("");
  if (n["exchange"]) s.exchange = r.string(n["exchange"], path + ".exchange").value_or("");
  if (n["aliases"]) s.entity.aliases = r.strings(n["aliases"], path + ".aliases");
  if (n["ambiguous_aliases"]) {
    s.entity.ambiguous_aliases = r.strings(n["ambiguous_aliases"], path + ".ambiguous_aliases");
  }
  if (n["context"]) s.entity.context = r.strings(n["context"], path + ".context");
  if (n["negative"]) s.entity.negative = r.strings(n["negative"], path + ".negative");
  cfg.universe.push_back(std::move(s));
}

void read_theme(reader& r, const YAML::Node& n, const std::string& path, rules::rules_config& cfg) {
  if (!r.check_map(n, path, {"name", "keywords", "baskets", "negative"})) return;
  rules::theme_spec t;
  if (n["name"]) t.name = r.string(n["name"], path + ".name").value_or("");
  else r.error(n, path + " needs a name");
  if (n["keywords"]) t.keywords = r.strings(n["keywords"], path + ".keywords");
  if (n["baskets"]) t.baskets = r.strings(n["baskets"], path + ".baskets");
  if (n["negative"]) t.negative = r.strings(n["negative"], path + ".negative");
  cfg.themes.push_back(std::move(t));
}

void read_rule(reader& r, const YAML::Node& n, const std::string& path, rules::rules_config& cfg) {
  if (!r.check_map(n, path, {"name", "kind", "threshold_pct", "escalation_pct", "critical_pct",
                             "window", "frequency", "cooldown", "cooldown_backoff",
                             "rearm_margin_pct", "min_interval", "bar", "confirm", "sessions",
                             "symbols", "baskets", "z_threshold", "min_history", "history",
                             "volume_factor", "bucket", "min_days", "min_members"})) {
    return;
  }
  rules::rule_spec rule;
  if (n["name"]) rule.name = r.string(n["name"], path + ".name").value_or("");
  else r.error(n, path + " needs a name");
  static const char* k_kinds =
      "prev_close_move, window_move, zscore_move, volume_spike, opening_gap, price_limit, "
      "trading_halt, luld, basket_breadth, unexplained_move";
  if (n["kind"]) {
    const std::string kind = r.string(n["kind"], path + ".kind").value_or("");
    if (auto k = rules::rule_kind_from_string(kind)) rule.kind = *k;
    else r.error(n["kind"], path + ".kind '" + kind + "' is not a rule kind (" + k_kinds + ")");
  } else {
    r.error(n, path + " needs a kind (" + std::string(k_kinds) + ")");
  }
  const bool needs_threshold = rule.kind != rules::rule_kind::trading_halt &&
                               rule.kind != rules::rule_kind::luld &&
                               rule.kind != rules::rule_kind::price_limit &&
                               rule.kind != rules::rule_kind::volume_spike;
  if (n["threshold_pct"]) rule.threshold_pct = r.number(n["threshold_pct"], path + ".threshold_pct").value_or(0);
  else if (needs_threshold) r.error(n, path + " needs threshold_pct (e.g. 5)");
  if (n["escalation_pct"]) {
    r.remember(path + ".escalation_pct", n["escalation_pct"]);
    if (!n["escalation_pct"].IsSequence()) {
      r.error(n["escalation_pct"], path + ".escalation_pct must be a list such as [10, 15]");
    } else {
      for (std::size_t i = 0; i < n["escalation_pct"].size(); ++i) {
        if (auto v = r.number(n["escalation_pct"][i], path + ".escalation_pct[" + std::to_string(i) + "]")) {
          rule.escalation_pct.push_back(*v);
        }
      }
    }
  }
  auto number = [&](const char* key, double& out) {
    if (n[key]) out = r.number(n[key], path + "." + key).value_or(out);
  };
  auto count = [&](const char* key, std::size_t& out) {
    if (!n[key]) return;
    const auto v = r.number(n[key], path + "." + key);
    if (v && (*v < 0 || *v != std::floor(*v))) {
      r.error(n[key], path + "." + key + " must be a whole number");
    } else if (v) {
      out = static_cast<std::size_t>(*v);
    }
  };
  auto duration = [&](const char* key, rules::time_ns& out) {
    if (n[key]) out = r.duration(n[key], path + "." + key).value_or(out);
  };
  number("critical_pct", rule.critical_pct);
  number("cooldown_backoff", rule.cooldown_backoff);
  number("rearm_margin_pct", rule.rearm_margin_pct);
  number("z_threshold", rule.z_threshold);
  number("volume_factor", rule.volume_factor);
  duration("window", rule.window);
  duration("cooldown", rule.cooldown);
  duration("min_interval", rule.min_interval);
  duration("bar", rule.bar);
  duration("bucket", rule.bucket);
  count("min_history", rule.min_history);
  count("history", rule.history);
  count("min_days", rule.min_days);
  count("min_members", rule.min_members);
  std::size_t confirm = static_cast<std::size_t>(rule.confirm);
  count("confirm", confirm);
  rule.confirm = static_cast<int>(std::min<std::size_t>(confirm, 1000));
  if (n["frequency"]) {
    const std::string f = r.string(n["frequency"], path + ".frequency").value_or("");
    if (auto v = rules::trigger_frequency_from_string(f)) rule.frequency = *v;
    else r.error(n["frequency"], path + ".frequency '" + f + "' is not one of on_cross, once, once_per_bar, every_time");
  }
  if (n["sessions"]) {
    const auto names = r.strings(n["sessions"], path + ".sessions");
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "pre_market") rule.sessions.push_back(rules::session_kind::pre_market);
      else if (names[i] == "regular") rule.sessions.push_back(rules::session_kind::regular);
      else if (names[i] == "after_hours") rule.sessions.push_back(rules::session_kind::after_hours);
      else if (names[i] == "closed") rule.sessions.push_back(rules::session_kind::closed);
      else r.error(n["sessions"][i], path + ".sessions entries are pre_market, regular, after_hours, closed");
    }
  }
  if (n["symbols"]) rule.symbols = r.strings(n["symbols"], path + ".symbols");
  if (n["baskets"]) rule.baskets = r.strings(n["baskets"], path + ".baskets");
  cfg.rules.push_back(std::move(rule));
}

void read_price_limit(reader& r, const YAML::Node& n, const std::string& path,
                      rules::rules_config& cfg) {
  if (!r.check_map(n, path, {"exchange", "prefixes", "limit_pct"})) return;
  rules::price_limit_spec pl;
  if (n["exchange"]) pl.exchange = r.string(n["exchange"], path + ".exchange").value_or("");
  else r.error(n, path + " needs an exchange (e.g. XSHE)");
  if (n["prefixes"]) pl.prefixes = r.strings(n["prefixes"], path + ".prefixes");
  if (n["limit_pct"]) pl.limit_pct = r.number(n["limit_pct"], path + ".limit_pct").value_or(0);
  else r.error(n, path + " needs limit_pct (e.g. 10)");
  cfg.price_limits.push_back(std::move(pl));
}

void read_price_limit_exception(reader& r, const YAML::Node& n, const std::string& path,
                                rules::rules_config& cfg) {
  if (!r.check_map(n, path, {"symbol", "limit_pct"})) return;
  rules::price_limit_exception ex;
  if (n["symbol"]) ex.symbol = r.string(n["symbol"], path + ".symbol").value_or("");
  else r.error(n, path + " needs a symbol");
  if (n["limit_pct"]) {
    const auto text = r.string(n["limit_pct"], path + ".limit_pct");
    if (text && *text != "none") ex.limit_pct = r.number(n["limit_pct"], path + ".limit_pct");
  } else {
    r.error(n, path + " needs limit_pct (a percentage, or none for no limit)");
  }
  cfg.price_limit_exceptions.push_back(std::move(ex));
}

std::optional<std::size_t> read_bytes(reader& r, const YAML::Node& node, const std::string& path);

// feeds: one live connection each (used by `run`). Credentials stay references here; `run`
// resolves them at startup so check-config never needs the secrets themselves.
void read_feed(reader& r, const YAML::Node& n, const std::string& path, daemon_config& cfg) {
  if (!r.check_map(n, path, {"name", "dialect", "url", "symbols", "channels", "key", "secret",
                             "subscribe_message", "subscribe_via", "ca_file", "verify_host",
                             "compression", "msgpack", "connect_timeout", "handshake_timeout",
                             "auth_timeout", "idle_timeout", "ping_interval", "stale_after",
                             "max_connection_age", "backoff_base", "backoff_cap", "fatal_retry",
                             "healthy_after", "max_frame_bytes", "market"})) {
    return;
  }
  feed_config f;
  std::optional<feeds::dialect> which;
  if (n["dialect"]) {
    f.dialect = r.string(n["dialect"], path + ".dialect").value_or("");
    which = feeds::dialect_from_name(f.dialect);
    if (!which) {
      r.error(n["dialect"], path + ".dialect '" + f.dialect + "' is not one of alpaca-stocks, "
                            "alpaca-news, finnhub, polygon-stocks, binance, generic");
    }
  } else {
    r.error(n, path + " needs a dialect");
  }
  if (n["name"]) f.name = r.string(n["name"], path + ".name").value_or("");
  else f.name = f.dialect;
  for (const feed_config& other : cfg.feeds) {
    if (!f.name.empty() && other.name == f.name) {
      r.error(n["name"] ? n["name"] : n, path + ": another feed is already named '" + f.name +
                                             "' (names label logs, metrics and capture files)");
    }
  }
  if (n["url"]) {
    f.url = r.string(n["url"], path + ".url").value_or("");
    if (!feeds::parse_ws_url(f.url)) {
      r.error(n["url"], path + ".url must be a ws:// or wss:// URL such as "
                               "wss://stream.data.alpaca.markets/v2/iex");
    } else if (f.url.find("token=") != std::string::npos) {
      r.error(n["url"], path + ".url must not carry a token: put it in key (env:, file: or cred:)");
    }
  } else {
    r.error(n, path + " needs a url (ws:// or wss://)");
  }
  if (n["symbols"]) f.symbols = r.strings(n["symbols"], path + ".symbols");
  if (n["channels"]) {
    f.channels = r.strings(n["channels"], path + ".channels");
    if (which) {
      for (std::size_t i = 0; i < f.channels.size(); ++i) {
        if (std::string problem = feeds::check_channel(*which, f.channels[i]); !problem.empty()) {
          r.error(n["channels"][i], path + ".channels[" + std::to_string(i) + "]: " + problem);
        }
      }
    }
  }
  if (which && f.symbols.empty() && *which != feeds::dialect::alpaca_news &&
      *which != feeds::dialect::generic) {
    r.error(n, path + " needs symbols to subscribe to (e.g. symbols: [NVDA, AMD])");
  }
  auto secret_ref = [&](const char* key, std::string& field, bool needed) {
    if (!n[key]) {
      if (needed) {
        r.error(n, path + " needs " + key + " (env:NAME, file:PATH or cred:NAME) for the " +
                       f.dialect + " dialect");
      }
      return;
    }
    field = r.string(n[key], path + "." + key).value_or("");
    if (!needed && which) {
      r.error(n[key], path + "." + key + ": the " + f.dialect + " dialect uses no " + key);
    } else if (std::string problem = feeds::check_secret_reference(field); !problem.empty()) {
      r.error(n[key], path + "." + key + ": " + problem);
    }
  };
  secret_ref("key", f.key, which && feeds::needs_key(*which));
  secret_ref("secret", f.secret, which && feeds::needs_secret(*which));
  if (n["subscribe_message"]) {
    f.subscribe_message = r.string(n["subscribe_message"], path + ".subscribe_message").value_or("");
    if (which && *which != feeds::dialect::generic) {
      r.error(n["subscribe_message"], path + ".subscribe_message is for the generic dialect; " +
                                          f.dialect + " subscribes to symbols and channels");
    }
  }
  if (n["subscribe_via"]) {
    f.subscribe_via = r.string(n["subscribe_via"], path + ".subscribe_via").value_or("");
    if (which && *which != feeds::dialect::binance) {
      r.error(n["subscribe_via"], path + ".subscribe_via is for the binance dialect");
    } else if (f.subscribe_via != "url" && f.subscribe_via != "message") {
      r.error(n["subscribe_via"], path + ".subscribe_via must be url or message");
    }
  }
  if (n["ca_file"]) f.ca_file = r.string(n["ca_file"], path + ".ca_file").value_or("");
  auto boolean = [&](const char* key, bool& field) {
    if (!n[key]) return;
    const std::string v = r.string(n[key], path + "." + key).value_or("");
    if (v == "true") field = true;
    else if (v == "false") field = false;
    else r.error(n[key], path + "." + key + " must be true or false");
  };
  boolean("verify_host", f.verify_host);
  boolean("compression", f.compression);
  boolean("msgpack", f.msgpack);
  if (f.msgpack) {
    r.error(n["msgpack"], path + ".msgpack: only JSON text frames are supported (msgpack: false)");
  }
  // Durations: `positive` ones must be > 0 (every wait has a deadline); others allow 0 = off.
  auto duration = [&](const char* key, rules::time_ns& field, bool positive) {
    if (!n[key]) return;
    const auto d = r.duration(n[key], path + "." + key);
    if (!d) return;
    if (*d < 0 || (positive && *d == 0)) {
      r.error(n[key], path + "." + key + (positive ? " must be longer than 0" : " must not be negative"));
      return;
    }
    field = *d;
  };
  duration("connect_timeout", f.connect_timeout, true);
  duration("handshake_timeout", f.handshake_timeout, true);
  duration("auth_timeout", f.auth_timeout, true);
  duration("idle_timeout", f.idle_timeout, true);
  duration("ping_interval", f.ping_interval, false);
  duration("backoff_base", f.backoff_base, true);
  duration("backoff_cap", f.backoff_cap, true);
  duration("fatal_retry", f.fatal_retry, true);
  duration("healthy_after", f.healthy_after, true);
  if (n["stale_after"]) {
    rules::time_ns v = 0;
    duration("stale_after", v, false);
    f.stale_after = v;
  }
  if (n["max_connection_age"]) {
    rules::time_ns v = 0;
    duration("max_connection_age", v, false);
    f.max_connection_age = v;
  }
  if (f.backoff_cap < f.backoff_base) {
    r.error(n["backoff_cap"] ? n["backoff_cap"] : n,
            path + ".backoff_cap must be at least backoff_base");
  }
  if (f.ping_interval > 0 && f.ping_interval >= f.idle_timeout) {
    r.error(n["ping_interval"] ? n["ping_interval"] : n,
            path + ".ping_interval must be shorter than idle_timeout (pongs keep the socket alive)");
  }
  if (n["max_frame_bytes"]) {
    if (auto b = read_bytes(r, n["max_frame_bytes"], path + ".max_frame_bytes")) {
      if (*b < 1024 || *b > feeds::k_max_frame_bytes) {
        r.error(n["max_frame_bytes"], path + ".max_frame_bytes must be between 1KiB and 64MiB");
      } else {
        f.max_frame_bytes = *b;
      }
    }
  }
  if (n["market"]) {
    f.market = r.string(n["market"], path + ".market").value_or("");
    bool known = f.market == "always";
    std::string mics;
    for (const rules::exchange_spec& ex : cfg.rules.exchanges) {
      known = known || ex.mic == f.market;
      mics += ", " + ex.mic;
    }
    if (!known) {
      r.error(n["market"], path + ".market '" + f.market +
                               "' is not an exchange of the exchanges: section (or always" + mics +
                               ")");
    }
  }
  cfg.feeds.push_back(std::move(f));
}

// outputs: the durable outbox and the destinations (exporters::outputs_config). Shapes are
// checked here; exporters::validate() checks meaning (required fields per type, URLs, secret
// references, templates) and its problems are located through their document paths.

std::optional<rules::severity> parse_severity(const std::string& s) {
  if (s == "info") return rules::severity::info;
  if (s == "warning") return rules::severity::warning;
  if (s == "critical") return rules::severity::critical;
  return std::nullopt;
}

// A size in bytes: 65536, 64KiB, 64MiB, 1GiB.
std::optional<std::size_t> read_bytes(reader& r, const YAML::Node& node, const std::string& path) {
  auto text = r.string(node, path);
  if (!text) return std::nullopt;
  std::size_t value = 0;
  const char* b = text->data();
  const char* e = b + text->size();
  auto [ptr, ec] = std::from_chars(b, e, value);
  const std::string unit(ptr, e);
  std::size_t scale = 0;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "KiB")
    scale = std::size_t{1} << 10;
  else if (unit == "MiB")
    scale = std::size_t{1} << 20;
  else if (unit == "GiB")
    scale = std::size_t{1} << 30;
  if (ec != std::errc{} || ptr == b || scale == 0) {
    r.error(node, path + " must be a size such as 65536, 512KiB or 64MiB, not '" + *text + "'");
    return std::nullopt;
  }
  return value * scale;
}

std::size_t read_count(reader& r, const YAML::Node& node, const std::string& path) {
  const double v = r.number(node, path).value_or(-1);
  if (v < 0 || v != static_cast<double>(static_cast<std::size_t>(v))) {
    r.error(node, path + " must be a whole number of 0 or more");
    return 0;
  }
  return static_cast<std::size_t>(v);
}

void read_route(reader& r, const YAML::Node& n, const std::string& path,
                exporters::route_config& route) {
  if (!r.check_map(n, path, {"min_severity", "rules", "symbols", "themes", "send_resolved"}))
    return;
  if (n["min_severity"]) {
    const std::string s = r.string(n["min_severity"], path + ".min_severity").value_or("");
    if (auto level = parse_severity(s))
      route.min_severity = *level;
    else
      r.error(n["min_severity"], path + ".min_severity must be info, warning or critical");
  }
  if (n["rules"]) route.rules = r.strings(n["rules"], path + ".rules");
  if (n["symbols"]) route.symbols = r.strings(n["symbols"], path + ".symbols");
  if (n["themes"]) route.themes = r.strings(n["themes"], path + ".themes");
  if (n["send_resolved"]) {
    const std::string s = r.string(n["send_resolved"], path + ".send_resolved").value_or("");
    if (s == "true")
      route.send_resolved = true;
    else if (s == "false")
      route.send_resolved = false;
    else
      r.error(n["send_resolved"], path + ".send_resolved must be true or false");
  }
}

void read_destination(reader& r, const YAML::Node& n, const std::string& path,
                      exporters::outputs_config& out) {
  if (!r.check_map(n, path,
                   {"name", "type", "url", "token", "chat_id", "path", "template", "headers",
                    "username", "ca_file", "route", "group_window", "max_group", "rate", "timeout",
                    "max_retry_after", "backoff", "resend_interval", "firing_for"})) {
    return;
  }
  exporters::destination_config d;
  auto text = [&](const char* key, std::string& field) {
    if (n[key]) field = r.string(n[key], path + "." + key).value_or("");
  };
  auto duration = [&](const char* key, rules::time_ns& field) {
    if (n[key]) field = r.duration(n[key], path + "." + key).value_or(field);
  };
  text("name", d.name);
  if (!n["name"]) r.error(n, path + " needs a name");
  if (n["type"]) {
    const std::string type = r.string(n["type"], path + ".type").value_or("");
    if (auto t = exporters::destination_type_from_name(type)) {
      d.type = *t;
    } else {
      r.error(n["type"], path + ".type '" + type +
                             "' is not one of slack, discord, msteams, "
                             "telegram, alertmanager, webhook, jsonl, console");
    }
  } else {
    r.error(n, path +
                   " needs a type (slack, discord, msteams, telegram, alertmanager, webhook, "
                   "jsonl, console)");
  }
  text("url", d.url);
  text("token", d.token);
  text("chat_id", d.chat_id);
  text("path", d.path);
  text("template", d.template_text);
  text("username", d.username);
  text("ca_file", d.ca_file);
  if (n["headers"]) {
    const YAML::Node h = n["headers"];
    r.remember(path + ".headers", h);
    if (!h.IsMap()) {
      r.error(h, path + ".headers must map header names to values (or secret references)");
    } else {
      for (auto it = h.begin(); it != h.end(); ++it) {
        const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
        if (auto v = r.string(it->second, path + ".headers." + key))
          d.headers.emplace_back(key, *v);
      }
    }
  }
  if (n["route"]) read_route(r, n["route"], path + ".route", d.route);
  duration("group_window", d.group_window);
  if (n["max_group"]) d.max_group = read_count(r, n["max_group"], path + ".max_group");
  if (n["rate"]) {
    const YAML::Node rate = n["rate"];
    const std::string rp = path + ".rate";
    if (r.check_map(rate, rp, {"per_second", "burst", "group_per_minute"})) {
      if (rate["per_second"])
        d.rate_per_second = r.number(rate["per_second"], rp + ".per_second").value_or(-1);
      if (rate["burst"]) d.burst = r.number(rate["burst"], rp + ".burst").value_or(0);
      if (rate["group_per_minute"]) {
        d.group_per_minute =
            r.number(rate["group_per_minute"], rp + ".group_per_minute").value_or(-1);
      }
    }
  }
  duration("timeout", d.timeout);
  duration("max_retry_after", d.max_retry_after);
  if (n["backoff"]) {
    const YAML::Node b = n["backoff"];
    const std::string bp = path + ".backoff";
    if (r.check_map(b, bp, {"initial", "max"})) {
      if (b["initial"])
        d.backoff_initial = r.duration(b["initial"], bp + ".initial").value_or(d.backoff_initial);
      if (b["max"]) d.backoff_max = r.duration(b["max"], bp + ".max").value_or(d.backoff_max);
    }
  }
  duration("resend_interval", d.resend_interval);
  duration("firing_for", d.firing_for);
  out.destinations.push_back(std::move(d));
}

void read_outputs(reader& r, const YAML::Node& n, exporters::outputs_config& out) {
  if (n.IsNull()) return;
  if (!r.check_map(n, "outputs", {"outbox", "grafana_url", "destinations"})) return;
  if (n["outbox"]) {
    const YAML::Node o = n["outbox"];
    if (r.check_map(o, "outputs.outbox",
                    {"state_dir", "max_alerts", "max_bytes", "commit_interval", "commit_batch",
                     "compact_min_bytes"})) {
      exporters::outbox_config& ob = out.outbox;
      if (o["state_dir"])
        ob.state_dir = r.string(o["state_dir"], "outputs.outbox.state_dir").value_or("");
      if (o["max_alerts"])
        ob.max_alerts = read_count(r, o["max_alerts"], "outputs.outbox.max_alerts");
      if (o["max_bytes"])
        ob.max_bytes =
            read_bytes(r, o["max_bytes"], "outputs.outbox.max_bytes").value_or(ob.max_bytes);
      if (o["commit_interval"]) {
        ob.commit_interval = r.duration(o["commit_interval"], "outputs.outbox.commit_interval")
                                 .value_or(ob.commit_interval);
      }
      if (o["commit_batch"])
        ob.commit_batch = read_count(r, o["commit_batch"], "outputs.outbox.commit_batch");
      if (o["compact_min_bytes"]) {
        ob.compact_min_bytes =
            read_bytes(r, o["compact_min_bytes"], "outputs.outbox.compact_min_bytes")
                .value_or(ob.compact_min_bytes);
      }
    }
  }
  if (n["grafana_url"])
    out.grafana_url = r.string(n["grafana_url"], "outputs.grafana_url").value_or("");
  if (n["destinations"] && !n["destinations"].IsNull()) {
    r.each(n["destinations"], "outputs.destinations",
           [&](const YAML::Node& d, const std::string& p) { read_destination(r, d, p, out); });
  }
  for (const exporters::outputs_problem& p : exporters::validate(out)) {
    r.error_at_path(p.path, p.message);
  }
}

// `metrics:` {enabled, listen, max_extra_symbols}: the /metrics endpoint (telemetry/).
void read_metrics(reader& r, const YAML::Node& n, metrics_config& out) {
  if (!r.check_map(n, "metrics", {"enabled", "listen", "max_extra_symbols"})) return;
  if (n["enabled"]) {
    const std::string v = r.string(n["enabled"], "metrics.enabled").value_or("");
    if (v == "true") out.enabled = true;
    else if (v == "false") out.enabled = false;
    else r.error(n["enabled"], "metrics.enabled must be true or false");
  }
  if (n["listen"]) {
    out.listen = r.string(n["listen"], "metrics.listen").value_or(out.listen);
    std::string why;
    if (!telemetry::valid_listen_address(out.listen, &why)) {
      r.error(n["listen"], "metrics.listen '" + out.listen + "': " + why);
    }
  }
  if (n["max_extra_symbols"]) {
    const double v = r.number(n["max_extra_symbols"], "metrics.max_extra_symbols").value_or(64);
    if (v < 0 || v > 100000 || v != std::floor(v)) {
      r.error(n["max_extra_symbols"], "metrics.max_extra_symbols must be a whole number from 0 "
                                      "to 100000");
    } else {
      out.max_extra_symbols = static_cast<std::size_t>(v);
    }
  }
}

// `cluster:` {servers, replicas, shards, duplicate_window, streams: {events, alerts, stage:
// {name, max_bytes, max_age}}, notify: {consumer, ack_wait}}: NATS JetStream for `run --role` (cluster/).
void read_cluster(reader& r, const YAML::Node& n, cluster::cluster_config& out) {
  if (!r.check_map(n, "cluster",
                   {"servers", "replicas", "shards", "duplicate_window", "streams", "notify"})) {
    return;
  }
  // Stream and consumer names are NATS tokens: no dots, wildcards or whitespace.
  auto name_ok = [](const std::string& v) {
    if (v.empty() || v.size() > 64) return false;
    for (char c : v) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
    }
    return true;
  };
  if (n["servers"]) {
    out.servers = r.strings(n["servers"], "cluster.servers");
    for (std::size_t i = 0; i < out.servers.size(); ++i) {
      const std::string& u = out.servers[i];
      if (u.rfind("nats://", 0) != 0 && u.rfind("tls://", 0) != 0) {
        r.error(n["servers"][i], "cluster.servers[" + std::to_string(i) + "] '" + u +
                                     "' must be a nats://HOST:PORT or tls://HOST:PORT URL");
      }
    }
  }
  if (!n["servers"] || out.servers.empty()) {
    r.error(n, "cluster.servers must list at least one NATS server (nats://HOST:PORT)");
  }
  if (n["replicas"]) {
    const double v = r.number(n["replicas"], "cluster.replicas").value_or(1);
    if (v < 1 || v > 5 || v != std::floor(v)) {
      r.error(n["replicas"], "cluster.replicas must be a whole number from 1 to 5");
    } else {
      out.replicas = static_cast<int>(v);
    }
  }
  if (n["duplicate_window"]) {
    out.duplicate_window =
        r.duration(n["duplicate_window"], "cluster.duplicate_window").value_or(out.duplicate_window);
    if (out.duplicate_window <= 0) {
      r.error(n["duplicate_window"], "cluster.duplicate_window must be longer than 0");
    }
  }
  if (n["shards"]) {
    const double v = r.number(n["shards"], "cluster.shards").value_or(1);
    if (v < 1 || v > 4096 || v != static_cast<double>(static_cast<std::uint32_t>(v))) {
      r.error(n["shards"], "cluster.shards must be a whole number from 1 to 4096 (the N of every "
                           "`--role engine --shard I/N`)");
    } else {
      out.shards = static_cast<std::uint32_t>(v);
    }
  }
  if (n["streams"] &&
      r.check_map(n["streams"], "cluster.streams", {"events", "alerts", "stage"})) {
    auto stream = [&](const char* key, std::string& name, cluster::stream_limits& limits) {
      const YAML::Node s = n["streams"][key];
      const std::string path = std::string("cluster.streams.") + key;
      if (!s || !r.check_map(s, path, {"name", "max_bytes", "max_age"})) return;
      if (s["name"]) {
        name = r.string(s["name"], path + ".name").value_or(name);
        if (!name_ok(name)) {
          r.error(s["name"], path + ".name '" + name + "' must be 1 to 64 letters, digits, '_' "
                                                       "or '-'");
        }
      }
      if (s["max_bytes"]) {
        if (auto b = read_bytes(r, s["max_bytes"], path + ".max_bytes")) {
          if (*b < (std::size_t{1} << 20)) {
            r.error(s["max_bytes"], path + ".max_bytes must be at least 1MiB");
          } else {
            limits.max_bytes = static_cast<std::int64_t>(*b);
          }
        }
      }
      if (s["max_age"]) {
        limits.max_age = r.duration(s["max_age"], path + ".max_age").value_or(limits.max_age);
        if (limits.max_age < out.duplicate_window) {
          r.error(s["max_age"], path + ".max_age must be at least cluster.duplicate_window");
        }
      }
    };
    stream("events", out.events_stream, out.events);
    stream("alerts", out.alerts_stream, out.alerts);
    stream("stage", out.stage_stream, out.stage);
    if (out.events_stream == out.alerts_stream || out.stage_stream == out.events_stream ||
        out.stage_stream == out.alerts_stream) {
      r.error(n["streams"], "cluster.streams: events, alerts and stage need different names");
    }
  }
  if (n["notify"] && r.check_map(n["notify"], "cluster.notify", {"consumer", "ack_wait"})) {
    const YAML::Node s = n["notify"];
    if (s["consumer"]) {
      out.notify_consumer = r.string(s["consumer"], "cluster.notify.consumer").value_or("");
      if (!name_ok(out.notify_consumer)) {
        r.error(s["consumer"], "cluster.notify.consumer '" + out.notify_consumer +
                                   "' must be 1 to 64 letters, digits, '_' or '-'");
      }
    }
    if (s["ack_wait"]) {
      out.ack_wait = r.duration(s["ack_wait"], "cluster.notify.ack_wait").value_or(out.ack_wait);
      if (out.ack_wait < rules::k_ns_per_s) {
        r.error(s["ack_wait"], "cluster.notify.ack_wait must be at least 1s");
      }
    }
  }
}

void read_document(reader& r, const YAML::Node& root, daemon_config& cfg) {
  rules::rules_config& rc = cfg.rules;
  if (!r.check_map(root, "", {"version", "default_exchange", "news", "calendars", "exchanges",
                              "universe", "baskets", "themes", "rules", "price_limits",
                              "price_limit_exceptions", "storm", "outlier_pct", "feeds",
                              "outputs", "log_level", "metrics", "cluster"})) {
    return;
  }
  if (root["version"]) {
    auto v = r.number(root["version"], "version");
    if (v && *v != 1) r.error(root["version"], "version must be 1 (the only format so far)");
  }
  if (root["default_exchange"]) {
    rc.default_exchange = r.string(root["default_exchange"], "default_exchange").value_or("");
  }
  if (root["news"]) {
    const YAML::Node n = root["news"];
    if (r.check_map(n, "news", {"lookback", "lookahead", "max_citations", "max_stored"})) {
      if (n["lookback"]) rc.news.lookback = r.duration(n["lookback"], "news.lookback").value_or(0);
      if (n["lookahead"]) rc.news.lookahead = r.duration(n["lookahead"], "news.lookahead").value_or(0);
      if (n["max_citations"]) {
        rc.news.max_citations =
            static_cast<std::size_t>(r.number(n["max_citations"], "news.max_citations").value_or(0));
      }
      if (n["max_stored"]) {
        rc.news.max_stored =
            static_cast<std::size_t>(r.number(n["max_stored"], "news.max_stored").value_or(1));
      }
    }
  }
  if (root["calendars"]) {
    // Exchange calendars kept as data files, each holding an `exchanges:` list; paths are
    // relative to the config file.
    const auto files = r.strings(root["calendars"], "calendars");
    for (std::size_t i = 0; i < files.size(); ++i) {
      std::string text;
      const std::string resolved = resolve_path(r.file(), files[i]);
      if (!read_text_file(resolved, text)) {
        r.error(root["calendars"][i], "cannot read calendar file " + resolved);
        continue;
      }
      const std::string config_file = r.file();
      r.included_text += text;
      r.set_file(resolved);
      try {
        const YAML::Node doc = YAML::Load(text);
        if (r.check_map(doc, "", {"exchanges"}) && doc["exchanges"]) {
          const YAML::Node list = doc["exchanges"];
          if (!list.IsSequence()) {
            r.error(list, "exchanges must be a list");
          } else {
            for (std::size_t j = 0; j < list.size(); ++j) {
              const std::string path = "exchanges[" + std::to_string(rc.exchanges.size()) + "]";
              r.remember(path, list[j]);
              read_exchange(r, list[j], path, rc);
            }
          }
        }
      } catch (const YAML::Exception& e) {
        r.errors().push_back({resolved, e.mark.line >= 0 ? e.mark.line + 1 : 0,
                              e.mark.column >= 0 ? e.mark.column + 1 : 0,
                              "YAML syntax error: " + e.msg});
      }
      r.set_file(config_file);
    }
  }
  if (root["exchanges"]) {
    const YAML::Node list = root["exchanges"];
    if (!list.IsSequence()) {
      r.error(list, "exchanges must be a list (lines starting with '- ')");
    } else {
      for (std::size_t j = 0; j < list.size(); ++j) {
        const std::string path = "exchanges[" + std::to_string(rc.exchanges.size()) + "]";
        r.remember(path, list[j]);
        read_exchange(r, list[j], path, rc);
      }
    }
  }
  if (root["universe"]) {
    r.each(root["universe"], "universe",
           [&](const YAML::Node& n, const std::string& p) { read_symbol(r, n, p, rc); });
  }
  if (root["baskets"]) {
    const YAML::Node b = root["baskets"];
    r.remember("baskets", b);
    if (!b.IsMap()) {
      r.error(b, "baskets must map basket names to lists of symbols");
    } else {
      for (auto it = b.begin(); it != b.end(); ++it) {
        const std::string name = it->first.Scalar();
        if (rc.baskets.count(name)) {
          r.error(it->first, "duplicate basket '" + name + "'");
          continue;
        }
        rc.baskets[name] = r.strings(it->second, "baskets." + name);
      }
    }
  }
  if (root["themes"]) {
    r.each(root["themes"], "themes",
           [&](const YAML::Node& n, const std::string& p) { read_theme(r, n, p, rc); });
  }
  if (root["rules"]) {
    r.each(root["rules"], "rules",
           [&](const YAML::Node& n, const std::string& p) { read_rule(r, n, p, rc); });
  } else {
    r.error(root, "the config has no rules: add a rules: list (see deploy/config/aftershock.yaml)");
  }
  if (root["price_limits"]) {
    r.each(root["price_limits"], "price_limits",
           [&](const YAML::Node& n, const std::string& p) { read_price_limit(r, n, p, rc); });
  }
  if (root["price_limit_exceptions"]) {
    r.each(root["price_limit_exceptions"], "price_limit_exceptions",
           [&](const YAML::Node& n, const std::string& p) { read_price_limit_exception(r, n, p, rc); });
  }
  if (root["storm"]) {
    const YAML::Node n = root["storm"];
    if (r.check_map(n, "storm", {"max_alerts", "window"})) {
      if (n["max_alerts"]) {
        rc.storm.max_alerts =
            static_cast<std::size_t>(std::max(0.0, r.number(n["max_alerts"], "storm.max_alerts").value_or(0)));
      }
      if (n["window"]) rc.storm.window = r.duration(n["window"], "storm.window").value_or(0);
    }
  }
  if (root["outlier_pct"]) rc.outlier_pct = r.number(root["outlier_pct"], "outlier_pct").value_or(0);
  if (root["feeds"] && !root["feeds"].IsNull()) {
    r.each(root["feeds"], "feeds",
           [&](const YAML::Node& n, const std::string& p) { read_feed(r, n, p, cfg); });
  }
  if (root["outputs"]) read_outputs(r, root["outputs"], cfg.outputs);
  if (root["metrics"]) read_metrics(r, root["metrics"], cfg.metrics);
  if (root["cluster"]) read_cluster(r, root["cluster"], cfg.cluster);
  if (root["log_level"]) {
    static const std::set<std::string> k_levels{"trace", "debug",    "info", "warning",
                                                "warn",  "error", "critical", "off"};
    cfg.log_level = r.string(root["log_level"], "log_level").value_or("");
    if (!k_levels.count(cfg.log_level)) {
      r.error(root["log_level"], "log_level must be trace, debug, info, warning, error, "
                                 "critical or off, not '" + cfg.log_level + "'");
    }
  }
}

}  // namespace

loaded_config load_config(std::string_view text, const std::string& source_name) {
  loaded_config result;
  result.config.source_name = source_name;
  result.config.content_hash = rules::stable_hash_hex(text);
  reader r(source_name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    result.errors.push_back({source_name, e.mark.line >= 0 ? e.mark.line + 1 : 0,
                             e.mark.column >= 0 ? e.mark.column + 1 : 0,
                             "YAML syntax error: " + e.msg});
    return result;
  }
  if (!root || root.IsNull()) {
    result.errors.push_back({source_name, 1, 1, "the config is empty"});
    return result;
  }
  try {
    read_document(r, root, result.config);
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on odd shapes (e.g. keys that are sequences); report, never crash.
    r.errors().push_back({source_name, e.mark.line >= 0 ? e.mark.line + 1 : 0,
                          e.mark.column >= 0 ? e.mark.column + 1 : 0, e.msg});
  }
  if (!r.included_text.empty()) {
    result.config.content_hash = rules::stable_hash_hex(std::string(text) + r.included_text);
  }
  if (r.errors().empty()) {
    std::vector<rules::config_problem> problems;
    result.compiled = rules::compiled_rules::compile(result.config.rules, problems);
    for (const auto& p : problems) r.error_at_path(p.path, p.message);
  }
  result.errors = std::move(r.errors());
  if (!result.errors.empty()) result.compiled.reset();
  return result;
}

loaded_config load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    loaded_config result;
    result.errors.push_back({path, 0, 0, "cannot read the config file (does it exist, and may "
                                         "this user read it?)"});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_config(text.str(), path);
}

}  // namespace aftershock::daemon
