// The `outputs:` section of the configuration: what it fills in, and how its problems are
// reported (FILE:LINE:COL, all at once, like the rest of the config).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/config_loader.h"
#include "daemon/outputs.h"

namespace aftershock::daemon {
namespace {

using testing::HasSubstr;

const char* k_rules = R"(version: 1
default_exchange: XNAS
exchanges:
  - {mic: XNAS, tz_rule: "EST5EDT,M3.2.0,M11.1.0", regular: ["09:30-16:00"]}
universe:
  - {symbol: NVDA, name: Nvidia, aliases: [Nvidia]}
rules:
  - {name: prev_close_move, kind: prev_close_move, threshold_pct: 5}
)";

std::vector<std::string> messages(const loaded_config& c) {
  std::vector<std::string> out;
  for (const auto& e : c.errors) out.push_back(e.to_string());
  return out;
}

TEST(config_outputs, reads_every_destination_type) {
  const std::string text = std::string(k_rules) + R"(outputs:
  grafana_url: "https://grafana.example/d/aftershock?var-symbol={{symbol}}"
  outbox:
    state_dir: /var/lib/aftershock
    max_alerts: 5000
    max_bytes: 32MiB
    commit_interval: 5ms
    commit_batch: 256
  destinations:
    - name: slack-ai
      type: slack
      url: env:AFTERSHOCK_SLACK_WEBHOOK
      route: {min_severity: warning, themes: [deepseek], send_resolved: false}
      group_window: 10s
      max_group: 5
      rate: {per_second: 1, burst: 3}
      timeout: 5s
      max_retry_after: 1m
      backoff: {initial: 250ms, max: 30s}
    - {name: discord, type: discord, url: "cred:discord-webhook", username: aftershock}
    - {name: teams, type: msteams, url: "file:/etc/aftershock/teams-url"}
    - name: tg
      type: telegram
      token: env:TELEGRAM_BOT_TOKEN
      chat_id: "-1001234567890"
      rate: {group_per_minute: 10}
    - {name: am, type: alertmanager, url: "http://127.0.0.1:9093", resend_interval: 2m, firing_for: 3h}
    - name: hook
      type: webhook
      url: https://hooks.example/in
      template: '{"text":"{{summary}}","id":"{{id}}"}'
      headers: {Authorization: env:HOOK_AUTH}
      ca_file: /etc/ssl/private-ca.pem
    - {name: file, type: jsonl, path: /var/log/aftershock/alerts.jsonl}
    - {name: term, type: console, route: {min_severity: critical, symbols: [NVDA], rules: [prev_close_move]}}
)";
  const auto c = load_config(text, "out.yaml");
  ASSERT_TRUE(c.ok()) << testing::PrintToString(messages(c));
  const exporters::outputs_config& o = c.config.outputs;
  EXPECT_EQ(o.outbox.state_dir, "/var/lib/aftershock");
  EXPECT_EQ(o.outbox.max_alerts, 5000u);
  EXPECT_EQ(o.outbox.max_bytes, 32u << 20);
  EXPECT_EQ(o.outbox.commit_interval, 5 * rules::k_ns_per_ms);
  EXPECT_EQ(o.outbox.commit_batch, 256u);
  ASSERT_EQ(o.destinations.size(), 8u);
  const auto& slack = o.destinations[0];
  EXPECT_EQ(slack.type, exporters::destination_type::slack);
  EXPECT_EQ(slack.url, "env:AFTERSHOCK_SLACK_WEBHOOK");
  EXPECT_EQ(slack.route.min_severity, rules::severity::warning);
  EXPECT_EQ(slack.route.themes, std::vector<std::string>{"deepseek"});
  EXPECT_FALSE(slack.route.send_resolved);
  EXPECT_EQ(slack.group_window, 10 * rules::k_ns_per_s);
  EXPECT_EQ(slack.max_group, 5u);
  EXPECT_EQ(slack.rate_per_second, 1.0);
  EXPECT_EQ(slack.burst, 3.0);
  EXPECT_EQ(slack.max_retry_after, 60 * rules::k_ns_per_s);
  EXPECT_EQ(slack.backoff_initial, 250 * rules::k_ns_per_ms);
  EXPECT_EQ(o.destinations[3].chat_id, "-1001234567890");
  EXPECT_EQ(o.destinations[3].group_per_minute, 10.0);
  EXPECT_EQ(o.destinations[4].resend_interval, 120 * rules::k_ns_per_s);
  EXPECT_EQ(o.destinations[5].headers.at(0).second, "env:HOOK_AUTH");
  EXPECT_EQ(o.destinations[5].ca_file, "/etc/ssl/private-ca.pem");
  EXPECT_EQ(o.destinations[7].route.symbols, std::vector<std::string>{"NVDA"});
  EXPECT_EQ(outbox_state_dir("", o), "/var/lib/aftershock");
  EXPECT_EQ(outbox_state_dir("/tmp/x", o), "/tmp/x");
}

TEST(config_outputs, problems_name_file_line_and_column) {
  const std::string text = std::string(k_rules) + R"(outputs:
  outbox:
    max_bytes: lots
  destinations:
    - name: slack
      type: slak
    - name: teams
      type: msteams
      url: https://contoso.webhook.office.com/webhookb2/x
    - name: hook
      type: webhook
      url: https://hooks.example/in
      template: '{"x":"{{nope}}"}'
      retries: 3
    - name: tg
      type: telegram
      token: env:TOKEN
)";
  const auto c = load_config(text, "bad.yaml");
  ASSERT_FALSE(c.ok());
  const auto m = messages(c);
  EXPECT_THAT(
      m, testing::Contains(HasSubstr("bad.yaml:11:16: outputs.outbox.max_bytes must be a size")));
  EXPECT_THAT(m,
              testing::Contains(HasSubstr("bad.yaml:14:13: outputs.destinations[0].type 'slak'")));
  EXPECT_THAT(m, testing::Contains(AllOf(HasSubstr("bad.yaml:17:12:"), HasSubstr("retired"))));
  EXPECT_THAT(m, testing::Contains(AllOf(HasSubstr("bad.yaml:21:17:"), HasSubstr("{{nope}}"))));
  EXPECT_THAT(m, testing::Contains(HasSubstr("bad.yaml:22:7: unknown key 'retries'")));
  EXPECT_THAT(m, testing::Contains(HasSubstr("telegram destination needs chat_id")));
}

TEST(config_outputs, the_default_config_has_no_active_outputs) {
  const auto c =
      load_config_file(std::string(AFTERSHOCK_SOURCE_DIR) + "/deploy/config/aftershock.yaml");
  ASSERT_TRUE(c.ok()) << testing::PrintToString(messages(c));
  EXPECT_FALSE(c.config.outputs.configured());  // replays never deliver by accident
}

}  // namespace
}  // namespace aftershock::daemon
