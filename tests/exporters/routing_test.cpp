#include "exporters/routing.h"

#include <gtest/gtest.h>

#include "exporters/outputs_config.h"
#include "test_alerts.h"

namespace aftershock::exporters {
namespace {

using namespace std::chrono_literals;
using aftershock::testing::nvda_alert;

TEST(routing, routes_by_severity_rule_symbol_and_theme) {
  const rules::alert a = nvda_alert();  // critical, prev_close_move, NVDA, themes: deepseek
  route_config r;
  EXPECT_TRUE(route_matches(r, a));
  r.min_severity = rules::severity::critical;
  EXPECT_TRUE(route_matches(r, a));
  rules::alert warning = a;
  warning.level = rules::severity::warning;
  EXPECT_FALSE(route_matches(r, warning));
  r = {};
  r.rules = {"fast_move_15m"};
  EXPECT_FALSE(route_matches(r, a));
  r.rules = {"fast_move_15m", "prev_close_move"};
  EXPECT_TRUE(route_matches(r, a));
  r = {};
  r.symbols = {"AVGO"};
  EXPECT_FALSE(route_matches(r, a));
  r.symbols = {"NVDA"};
  EXPECT_TRUE(route_matches(r, a));
  r = {};
  r.themes = {"ai_capex"};
  EXPECT_FALSE(route_matches(r, a));
  r.themes = {"deepseek"};
  EXPECT_TRUE(route_matches(r, a));
  r = {};
  r.send_resolved = false;
  rules::alert resolved = a;
  resolved.status = rules::alert_status::resolved;
  EXPECT_FALSE(route_matches(r, resolved));
}

TEST(routing, mask_has_one_bit_per_taking_destination) {
  std::vector<destination_config> d(3);
  d[1].route.min_severity = rules::severity::critical;
  d[2].route.symbols = {"AVGO"};
  EXPECT_EQ(route_mask(d, nvda_alert()), 0b011u);
}

TEST(grouping, window_collects_until_full_or_old_enough) {
  const std::chrono::steady_clock::time_point t0{};
  EXPECT_EQ(decide_group(0, t0, t0, 5s, 10).take, 0u);
  EXPECT_EQ(decide_group(3, t0, t0, 0s, 10).take, 3u);    // no window: at once
  EXPECT_EQ(decide_group(30, t0, t0, 0s, 10).take, 10u);  // never more than a message holds
  const group_decision wait = decide_group(3, t0, t0 + 1s, 5s, 10);
  EXPECT_EQ(wait.take, 0u);
  EXPECT_EQ(wait.wait_until, t0 + 5s);
  EXPECT_EQ(decide_group(3, t0, t0 + 5s, 5s, 10).take, 3u);
  EXPECT_EQ(decide_group(10, t0, t0 + 1s, 5s, 10).take, 10u);  // full: no need to wait
}

TEST(outputs_config, validation_lists_every_problem) {
  outputs_config c;
  destination_config slack;
  slack.name = "slack";
  slack.type = destination_type::slack;  // no url
  destination_config teams;
  teams.name = "slack";  // duplicate
  teams.type = destination_type::msteams;
  teams.url = "https://contoso.webhook.office.com/webhookb2/abc";
  destination_config tg;
  tg.name = "tg";
  tg.type = destination_type::telegram;
  tg.token = "env:BAD NAME";
  destination_config hook;
  hook.name = "hook";
  hook.type = destination_type::webhook;
  hook.url = "ftp://x";
  hook.template_text = "{{nope}}";
  c.destinations = {slack, teams, tg, hook};
  c.grafana_url = "grafana.example/{{symbol}}";
  std::vector<std::string> messages;
  for (const auto& p : validate(c)) messages.push_back(p.path + ": " + p.message);
  const auto has = [&](std::string_view needle) {
    for (const auto& m : messages) {
      if (m.find(needle) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("slack destination needs url")) << ::testing::PrintToString(messages);
  EXPECT_TRUE(has("duplicate destination name 'slack'"));
  EXPECT_TRUE(has("Office 365 connector webhooks are retired"));
  EXPECT_TRUE(has("telegram destination needs chat_id"));
  EXPECT_TRUE(has("outputs.destinations[2].token"));
  EXPECT_TRUE(has("outputs.destinations[3].url"));
  EXPECT_TRUE(has("unknown placeholder {{nope}}"));
  EXPECT_TRUE(has("outputs.grafana_url"));
}

TEST(outputs_config, platform_defaults) {
  destination_config d;
  d.type = destination_type::slack;
  EXPECT_EQ(effective_limits(d).rate_per_second, 1.0);
  d.type = destination_type::telegram;
  d.chat_id = "-100123";
  EXPECT_EQ(effective_limits(d).group_per_minute, 20.0);
  d.chat_id = "12345";  // a private chat: no group limit
  EXPECT_EQ(effective_limits(d).group_per_minute, 0.0);
  d.type = destination_type::discord;
  d.max_group = 50;  // Discord holds 10 embeds
  EXPECT_EQ(effective_limits(d).max_group, 10u);
  d.type = destination_type::webhook;
  EXPECT_EQ(effective_limits(d).max_group, 1u);
}

}  // namespace
}  // namespace aftershock::exporters
