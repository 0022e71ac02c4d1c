// Replays the DeepSeek day (tests/data/scenarios/deepseek-2025-01-27) with the default config
// and asserts every expectation in its expected.json, the same ones check_alerts.py checks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <unistd.h>

#include "daemon/config_loader.h"
#include "daemon/replay.h"

namespace aftershock::daemon {
namespace {

const std::string k_scenario =
    std::string(AFTERSHOCK_TEST_DATA_DIR) + "/scenarios/deepseek-2025-01-27";

struct parsed_alert {
  std::string status, kind, symbol;
  std::set<std::string> names;
  bool has_change = false;
  double change_pct = 0;
  rules::time_ns event_time = 0;
  std::set<std::string> cited;
};

class deepseek_replay : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto config = load_config_file(std::string(AFTERSHOCK_SOURCE_DIR) +
                                         "/deploy/config/aftershock.yaml");
    ASSERT_TRUE(config.ok());
    // ctest runs each test in its own process, possibly in parallel: one file per process.
    out_path_ = testing::TempDir() + "deepseek-alerts-" + std::to_string(::getpid()) + ".jsonl";
    replay_options options;
    options.captures = {k_scenario + "/capture.ndjson"};
    options.alerts_out = out_path_;
    std::string error;
    summary_ = replay_captures(config, options, &error);
    ASSERT_TRUE(error.empty()) << error;

    std::ifstream in(out_path_);
    std::string line;
    simdjson::dom::parser parser;
    while (std::getline(in, line)) {
      lines_.push_back(line);
      simdjson::dom::element doc = parser.parse(line);
      parsed_alert a;
      a.status = std::string(std::string_view(doc["status"]));
      a.kind = std::string(std::string_view(doc["kind"]));
      if (doc["symbol"].is_string()) {
        a.symbol = std::string(std::string_view(doc["symbol"]));
        a.names.insert(a.symbol);
      }
      for (auto s : doc["symbols"].get_array()) a.names.insert(std::string(std::string_view(s)));
      if (doc["change_pct"].is_number()) {
        a.has_change = true;
        a.change_pct = double(doc["change_pct"]);
      }
      a.event_time = *rules::parse_rfc3339(std::string_view(doc["event_time"]));
      for (auto h : doc["headlines"].get_array()) {
        a.cited.insert(std::string(std::string_view(h["id"])));
      }
      alerts_.push_back(std::move(a));
    }
  }

  static bool is_price_alert(const parsed_alert& a) { return a.status == "firing" && a.has_change; }

  static inline std::string out_path_;
  static inline replay_summary summary_;
  static inline std::vector<parsed_alert> alerts_;
  static inline std::vector<std::string> lines_;
};

// The default replay parses on a second thread; `--threads 1` does everything on one. The engine
// must see the same events in the same order: byte-identical alerts and the same counts.
TEST_F(deepseek_replay, one_thread_and_the_parse_thread_give_the_same_alerts) {
  const auto config = load_config_file(std::string(AFTERSHOCK_SOURCE_DIR) +
                                       "/deploy/config/aftershock.yaml");
  ASSERT_TRUE(config.ok());
  const std::string path =
      testing::TempDir() + "deepseek-one-thread-" + std::to_string(::getpid()) + ".jsonl";
  replay_options options;
  options.captures = {k_scenario + "/capture.ndjson"};
  options.alerts_out = path;
  options.parse_thread = false;
  std::string error;
  const replay_summary one = replay_captures(config, options, &error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_EQ(one.frames, summary_.frames);
  EXPECT_EQ(one.events, summary_.events);
  EXPECT_EQ(one.alerts, summary_.alerts);
  EXPECT_EQ(one.parse_errors, summary_.parse_errors);
  EXPECT_EQ(one.bad_lines, summary_.bad_lines);
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  EXPECT_EQ(lines, lines_);
  EXPECT_GT(lines.size(), 0u);
  std::remove(path.c_str());
}

TEST_F(deepseek_replay, reads_every_frame_without_errors) {
  EXPECT_EQ(summary_.frames, 46397u);
  EXPECT_EQ(summary_.parse_errors, 0u);
  EXPECT_EQ(summary_.bad_lines, 0u);
  EXPECT_GT(summary_.alerts, 0u);
}

TEST_F(deepseek_replay, meets_every_expectation_in_expected_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element expected = parser.load(k_scenario + "/expected.json");
  int checked = 0;
  for (auto want : expected["must_fire"].get_array()) {
    const std::string sym{std::string_view(want["symbol"])};
    const int sign = std::string_view(want["direction"]) == "down" ? -1 : 1;
    const rules::time_ns by = *rules::parse_rfc3339(std::string_view(want["by"]));
    std::set<std::string> cite_any;
    if (want["cite_any"].is_array()) {
      for (auto id : want["cite_any"].get_array()) cite_any.insert(std::string(std::string_view(id)));
    }
    bool ok = false;
    for (const auto& a : alerts_) {
      if (!is_price_alert(a) || !a.names.count(sym) || a.change_pct * sign <= 0 || a.event_time > by) {
        continue;
      }
      const bool explained = cite_any.empty() || std::any_of(a.cited.begin(), a.cited.end(),
                                                 [&](const std::string& id) { return cite_any.count(id); });
      ok = ok || explained;
    }
    EXPECT_TRUE(ok) << sym << " must fire " << std::string_view(want["direction"]) << " by "
                    << std::string_view(want["by"]) << " citing one of the expected headlines";
    ++checked;
  }
  for (auto s : expected["must_not_fire"].get_array()) {
    const std::string sym{std::string_view(s)};
    for (const auto& a : alerts_) {
      EXPECT_FALSE(is_price_alert(a) && a.names.count(sym)) << sym << " must not fire";
    }
    ++checked;
  }
  for (auto id : expected["never_cite"].get_array()) {
    const std::string hid{std::string_view(id)};
    for (const auto& a : alerts_) EXPECT_FALSE(a.cited.count(hid)) << hid << " must never be cited";
    ++checked;
  }
  for (auto field : expected["cite_only_for"].get_object()) {
    const std::string hid(field.key);
    std::set<std::string> allowed;
    for (auto s : field.value.get_array()) allowed.insert(std::string(std::string_view(s)));
    for (const auto& a : alerts_) {
      if (!a.cited.count(hid)) continue;
      const bool names_allowed = std::any_of(a.names.begin(), a.names.end(),
                                             [&](const std::string& n) { return allowed.count(n); });
      EXPECT_TRUE(names_allowed) << hid << " cited on an alert for " << a.symbol;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 13 + 3 + 2 + 1);
}

TEST_F(deepseek_replay, every_price_alert_names_its_baseline_and_is_not_repeated) {
  std::set<std::string> ids;
  for (const auto& line : lines_) {
    EXPECT_THAT(line, testing::HasSubstr("\"baseline\":{"));
    EXPECT_THAT(line, testing::HasSubstr("\"fingerprint\":\""));
    EXPECT_THAT(line, testing::HasSubstr("\"summary\":\""));
    simdjson::dom::parser p;
    ids.insert(std::string(std::string_view(p.parse(line)["id"])));
  }
  EXPECT_EQ(ids.size(), lines_.size()) << "alert ids must be unique";
  // No spam: a handful of alerts per symbol over the day, not one per print.
  std::map<std::string, int> per_symbol;
  for (const auto& a : alerts_) {
    if (a.status == "firing") ++per_symbol[a.symbol];
  }
  for (const auto& [sym, n] : per_symbol) EXPECT_LE(n, 8) << sym;
}

TEST_F(deepseek_replay, replay_is_deterministic) {
  const auto config = load_config_file(std::string(AFTERSHOCK_SOURCE_DIR) +
                                       "/deploy/config/aftershock.yaml");
  const std::string second =
      testing::TempDir() + "deepseek-alerts-2-" + std::to_string(::getpid()) + ".jsonl";
  replay_options options;
  options.captures = {k_scenario + "/capture.ndjson"};
  options.alerts_out = second;
  replay_captures(config, options, nullptr);
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  EXPECT_EQ(slurp(out_path_), slurp(second));
}

}  // namespace
}  // namespace aftershock::daemon
