#include "daemon/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "feeds/frame_parser.h"
#include "rules/engine.h"

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
  void error_at_path(const std::string& path, const std::string& message) {
    // Use the deepest remembered ancestor of the path.
    std::string p = path;
    while (!p.empty()) {
      auto it = marks_.find(p);
      if (it != marks_.end()) {
        errors_.push_back({file_, it->second.line + 1, it->second.column + 1, message});
        return;
      }
      const std::size_t cut = p.find_last_of(".[");
      p = cut == std::string::npos ? std::string() : p.substr(0, cut);
    }
    errors_.push_back({file_, 0, 0, message});
  }
  void remember(const std::string& path, const YAML::Node& node) {
    if (node.Mark().line >= 0) marks_[path] = node.Mark();
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
  std::map<std::string, YAML::Mark> marks_;
};

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
                             "window", "cooldown", "sessions", "symbols", "baskets"})) {
    return;
  }
  rules::rule_spec rule;
  if (n["name"]) rule.name = r.string(n["name"], path + ".name").value_or("");
  else r.error(n, path + " needs a name");
  if (n["kind"]) {
    const std::string kind = r.string(n["kind"], path + ".kind").value_or("");
    if (kind == "prev_close_move") rule.kind = rules::rule_kind::prev_close_move;
    else if (kind == "window_move") rule.kind = rules::rule_kind::window_move;
    else r.error(n["kind"], path + ".kind '" + kind + "' is not a rule kind (prev_close_move, window_move)");
  } else {
    r.error(n, path + " needs a kind (prev_close_move or window_move)");
  }
  if (n["threshold_pct"]) rule.threshold_pct = r.number(n["threshold_pct"], path + ".threshold_pct").value_or(0);
  else r.error(n, path + " needs threshold_pct (e.g. 5)");
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
  if (n["critical_pct"]) rule.critical_pct = r.number(n["critical_pct"], path + ".critical_pct").value_or(0);
  if (n["window"]) rule.window = r.duration(n["window"], path + ".window").value_or(0);
  if (n["cooldown"]) rule.cooldown = r.duration(n["cooldown"], path + ".cooldown").value_or(0);
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

void read_feed(reader& r, const YAML::Node& n, const std::string& path, daemon_config& cfg) {
  if (!r.check_map(n, path, {"name", "dialect", "url", "symbols"})) return;
  feed_config f;
  if (n["name"]) f.name = r.string(n["name"], path + ".name").value_or("");
  if (n["dialect"]) {
    f.dialect = r.string(n["dialect"], path + ".dialect").value_or("");
    if (!feeds::dialect_from_name(f.dialect)) {
      r.error(n["dialect"], path + ".dialect '" + f.dialect + "' is not one of alpaca-stocks, "
                            "alpaca-news, finnhub, polygon-stocks, binance, generic");
    }
  } else {
    r.error(n, path + " needs a dialect");
  }
  if (n["url"]) f.url = r.string(n["url"], path + ".url").value_or("");
  if (n["symbols"]) f.symbols = r.strings(n["symbols"], path + ".symbols");
  cfg.feeds.push_back(std::move(f));
}

void read_document(reader& r, const YAML::Node& root, daemon_config& cfg) {
  rules::rules_config& rc = cfg.rules;
  if (!r.check_map(root, "", {"version", "default_exchange", "news", "exchanges", "universe",
                              "baskets", "themes", "rules", "feeds"})) {
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
    if (r.check_map(n, "news", {"lookback", "max_citations", "max_stored"})) {
      if (n["lookback"]) rc.news.lookback = r.duration(n["lookback"], "news.lookback").value_or(0);
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
  if (root["exchanges"]) {
    r.each(root["exchanges"], "exchanges",
           [&](const YAML::Node& n, const std::string& p) { read_exchange(r, n, p, rc); });
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
  if (root["feeds"] && !root["feeds"].IsNull()) {
    r.each(root["feeds"], "feeds",
           [&](const YAML::Node& n, const std::string& p) { read_feed(r, n, p, cfg); });
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
