#include "rules/alert.h"

#include <gtest/gtest.h>

namespace aftershock::rules {
namespace {

TEST(alert_json, escapes_hostile_text_and_invalid_utf8) {
  std::string out;
  append_json_string(out, "a\"b\\c\nd\x01 \xff 英伟达 \xe2\x82");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\u0001 \\ufffd 英伟达 \\ufffd\\ufffd\"");
}

TEST(alert_json, renders_the_checker_fields) {
  alert a;
  a.id = "abc";
  a.fingerprint = "fp";
  a.kind = "move";
  a.rule = "prev_close_move";
  a.symbol = "NVDA";
  a.symbols = {"NVDA"};
  a.change_pct = -5.123456;
  a.direction = "down";
  a.price = 135.5;
  a.event_time = *parse_rfc3339("2025-01-27T09:33:00.5Z");
  a.base = baseline{"prev_close", 142.62, 0, "previous close 142.62"};
  citation c;
  c.id = "43000104";
  c.headline = "DeepSeek Says";
  c.how = link_kind::theme;
  c.theme = "deepseek";
  c.matched = "DeepSeek";
  a.headlines.push_back(c);
  a.summary = "NVDA -5.12%";
  const std::string json = to_json(a);
  EXPECT_NE(json.find("\"status\":\"firing\""), std::string::npos);
  EXPECT_NE(json.find("\"symbol\":\"NVDA\""), std::string::npos);
  EXPECT_NE(json.find("\"symbols\":[\"NVDA\"]"), std::string::npos);
  EXPECT_NE(json.find("\"change_pct\":-5.12"), std::string::npos);
  EXPECT_NE(json.find("\"event_time\":\"2025-01-27T09:33:00.500Z\""), std::string::npos);
  EXPECT_NE(json.find("\"headlines\":[{\"id\":\"43000104\""), std::string::npos);
  EXPECT_NE(json.find("\"link\":\"theme\""), std::string::npos);
  EXPECT_NE(json.find("\"baseline\":{\"kind\":\"prev_close\",\"price\":142.62"), std::string::npos);
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

TEST(alert_json, non_price_alerts_have_null_change) {
  alert a;
  a.kind = "feed_stale";
  const std::string json = to_json(a);
  EXPECT_NE(json.find("\"change_pct\":null"), std::string::npos);
  EXPECT_NE(json.find("\"symbol\":null"), std::string::npos);
  EXPECT_NE(json.find("\"baseline\":null"), std::string::npos);
}

}  // namespace
}  // namespace aftershock::rules
