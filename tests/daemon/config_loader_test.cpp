#include "daemon/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aftershock::daemon {
namespace {

using testing::HasSubstr;

const char* k_minimal = R"(version: 1
default_exchange: XNAS
exchanges:
  - mic: XNAS
    tz_rule: EST5EDT,M3.2.0,M11.1.0
    regular: ["09:30-16:00"]
universe:
  - {symbol: NVDA, name: Nvidia, aliases: [Nvidia]}
baskets:
  semis: [NVDA]
themes:
  - {name: deepseek, keywords: [DeepSeek], baskets: [semis]}
rules:
  - name: prev_close_move
    kind: prev_close_move
    threshold_pct: 5
)";

std::vector<std::string> messages(const loaded_config& c) {
  std::vector<std::string> out;
  for (const auto& e : c.errors) out.push_back(e.to_string());
  return out;
}

TEST(config_loader, loads_a_minimal_config) {
  const auto c = load_config(k_minimal, "mini.yaml");
  ASSERT_TRUE(c.ok()) << testing::PrintToString(messages(c));
  ASSERT_NE(c.compiled, nullptr);
  EXPECT_EQ(c.config.rules.universe.size(), 1u);
  EXPECT_EQ(c.config.rules.rules[0].threshold_pct, 5);
  EXPECT_EQ(c.config.content_hash.size(), 16u);
}

TEST(config_loader, the_default_config_is_valid) {
  const auto c = load_config_file(std::string(AFTERSHOCK_SOURCE_DIR) + "/deploy/config/aftershock.yaml");
  ASSERT_TRUE(c.ok()) << testing::PrintToString(messages(c));
  std::set<std::string> symbols;
  for (const auto& s : c.config.rules.universe) symbols.insert(s.entity.symbol);
  for (const char* required :
       {"NVDA", "AVGO", "AMD", "TSM", "ASML", "MU", "ARM", "SMCI", "MRVL", "INTC", "QCOM", "MSFT",
        "GOOGL", "META", "AMZN", "AAPL", "ORCL", "PLTR", "VST", "CEG", "TLN", "SMH", "SOXX", "QQQ",
        "SPY", "JG", "SU.PA", "LR.PA", "300766.SZ", "9984.T"}) {
    EXPECT_TRUE(symbols.count(required)) << required;
  }
}

TEST(config_loader, unknown_keys_name_file_line_and_column) {
  std::string text = k_minimal;
  text += "    treshold: 3\n";
  const auto c = load_config(text, "cfg.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(messages(c), testing::Contains(AllOf(HasSubstr("cfg.yaml:17:5: unknown key 'treshold'"),
                                                   HasSubstr("threshold_pct"))));
  EXPECT_EQ(c.compiled, nullptr);
}

TEST(config_loader, every_problem_is_listed_at_once) {
  const std::string text = R"(version: 1
default_exchange: XNAS
exchanges:
  - mic: XNAS
    tz_rule: EST5EDT,M3.2.0,M11.1.0
    regular: ["16:00-09:30"]
universe:
  - {symbol: NVDA, aliases: [Nvidia]}
rules:
  - name: a
    kind: sideways_move
    threshold_pct: five
  - name: b
    kind: window_move
    threshold_pct: 3
    window: 15 minutes
    sessions: [lunch]
)";
  const auto c = load_config(text, "bad.yaml");
  const auto m = messages(c);
  EXPECT_THAT(m, testing::Contains(HasSubstr("bad.yaml:6:")));   // inverted session window
  EXPECT_THAT(m, testing::Contains(HasSubstr("bad.yaml:11:11: rules[0].kind 'sideways_move'")));
  EXPECT_THAT(m, testing::Contains(HasSubstr("bad.yaml:12:20: rules[0].threshold_pct must be a number")));
  EXPECT_THAT(m, testing::Contains(HasSubstr("bad.yaml:16:13: rules[1].window must be a duration")));
  EXPECT_THAT(m, testing::Contains(HasSubstr("bad.yaml:17:16: rules[1].sessions")));
  EXPECT_GE(c.errors.size(), 5u);
}

TEST(config_loader, semantic_problems_point_at_their_line) {
  std::string text = k_minimal;
  const std::string from = "semis: [NVDA]";
  text.replace(text.find(from), from.size(), "semis: [NVDA, NOPE]");
  const auto c = load_config(text, "cfg.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(messages(c), testing::Contains(AllOf(HasSubstr("cfg.yaml:10:17:"), HasSubstr("NOPE"))));
}

TEST(config_loader, syntax_errors_and_empty_files) {
  auto c = load_config("rules: [\n  - {name: x\n", "broken.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(messages(c)[0], HasSubstr("broken.yaml:"));
  EXPECT_THAT(messages(c)[0], HasSubstr("YAML syntax error"));
  c = load_config("", "empty.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(messages(c)[0], HasSubstr("empty"));
  c = load_config_file("/nonexistent/aftershock.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(messages(c)[0], HasSubstr("cannot read"));
}

TEST(config_loader, duplicate_keys_are_errors) {
  std::string text = k_minimal;
  text += "    threshold_pct: 6\n";
  const auto c = load_config(text, "dup.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(messages(c), testing::Contains(HasSubstr("duplicate key 'threshold_pct'")));
}

}  // namespace
}  // namespace aftershock::daemon
