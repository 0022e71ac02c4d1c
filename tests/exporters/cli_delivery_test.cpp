// The daemon's delivery commands as an operator runs them: `aftershockd test-notify` and
// `aftershockd replay --deliver`, against the loopback receiver playing Slack and Telegram,
// with webhook URLs passed as env: secrets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "loopback_receiver.h"

namespace aftershock::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::pair<int, std::string> run(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return {-1, out};
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class cli_delivery : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The default configuration plus outputs pointing at `rx`.
  std::string write_config(const loopback_receiver& rx) {
    ::setenv("AFTERSHOCK_TEST_SLACK_URL", rx.url("/services/T000/B000/secret").c_str(), 1);
    std::string text =
        read_file(std::string(AFTERSHOCK_SOURCE_DIR) + "/deploy/config/aftershock.yaml");
    text +=
        "\noutputs:\n"
        "  grafana_url: \"https://grafana.example/d/aftershock?var-symbol={{symbol}}\"\n"
        "  destinations:\n"
        "    - {name: slack-ai, type: slack, url: env:AFTERSHOCK_TEST_SLACK_URL,\n"
        "       rate: {per_second: 20}}\n"
        "    - {name: tg, type: telegram, url: \"" +
        rx.url("") +
        "\", token: \"42:SECRET\",\n"
        "       chat_id: \"-100777\", route: {min_severity: critical}}\n";
    const std::string path = (dir_ / "aftershock.yaml").string();
    std::ofstream(path) << text;
    // The calendars are data files resolved beside the configuration.
    if (!fs::exists(dir_ / "calendars")) {
      fs::copy(std::string(AFTERSHOCK_SOURCE_DIR) + "/deploy/config/calendars", dir_ / "calendars",
               fs::copy_options::recursive);
    }
    return path;
  }

  std::string bin() const { return std::string(AFTERSHOCK_BIN_DIR) + "/aftershockd"; }

  fs::path dir_;
};

TEST_F(cli_delivery, test_notify_sends_one_synthetic_alert) {
  loopback_receiver rx;
  const std::string config = write_config(rx);
  const auto [rc, out] = run(bin() + " test-notify slack-ai --config " + config);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_THAT(out, HasSubstr("test-notify: delivered to slack-ai (slack, http://127.0.0.1:"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("secret")));  // the webhook path never shows
  const auto requests = rx.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/services/T000/B000/secret");
  EXPECT_THAT(requests[0].body, HasSubstr("TEST NOTIFICATION"));
  EXPECT_THAT(requests[0].idempotency_key, HasSubstr("test-"));

  const auto [rc2, out2] = run(bin() + " test-notify nope --config " + config);
  EXPECT_EQ(rc2, 64) << out2;
  EXPECT_THAT(out2, HasSubstr("configured: slack-ai, tg"));
}

TEST_F(cli_delivery, test_notify_reports_failure) {
  loopback_receiver rx;
  rx.set_responder([](const received_request&, std::size_t) {
    return scripted_response{500, {}, "down"};
  });
  const std::string config = write_config(rx);
  const auto [rc, out] = run(bin() + " test-notify slack-ai --timeout 1 --config " + config);
  EXPECT_EQ(rc, 69) << out;
  EXPECT_THAT(out, HasSubstr("NOT delivered to slack-ai"));
  EXPECT_GE(rx.request_count(), 1u);
}

TEST_F(cli_delivery, replay_deliver_brings_every_deepseek_alert_to_chat) {
  loopback_receiver rx;
  rx.set_responder([](const received_request& r, std::size_t) {
    if (r.target.find("/bot") == 0) return scripted_response{200, {}, R"({"ok":true,"result":{}})"};
    return scripted_response{};
  });
  const std::string config = write_config(rx);
  const std::string alerts = (dir_ / "alerts.jsonl").string();
  const auto [rc, out] =
      run(bin() + " replay --config " + config + " --deliver --state-dir " +
          (dir_ / "state").string() + " --alerts-out " + alerts + " --print none " +
          AFTERSHOCK_TEST_DATA_DIR + "/scenarios/deepseek-2025-01-27/capture.ndjson");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_THAT(out, HasSubstr("deliver: slack-ai"));
  EXPECT_THAT(out, HasSubstr("0 deliveries left"));

  std::vector<std::string> all_ids;
  std::set<std::string> critical_ids;
  simdjson::dom::parser parser;
  std::istringstream lines(read_file(alerts));
  std::string line;
  while (std::getline(lines, line)) {
    simdjson::dom::element a = parser.parse(line);
    all_ids.emplace_back(std::string_view(a["id"]));
    if (std::string_view(a["severity"]) == "critical")
      critical_ids.emplace(std::string_view(a["id"]));
  }
  ASSERT_FALSE(all_ids.empty());

  std::vector<std::string> slack_ids;
  std::set<std::string> telegram_ids;
  for (const auto& r : rx.requests()) {
    std::vector<std::string> ids;
    std::stringstream keys(r.idempotency_key);
    for (std::string id; std::getline(keys, id, ',');) ids.push_back(id);
    if (r.target == "/services/T000/B000/secret") {
      slack_ids.insert(slack_ids.end(), ids.begin(), ids.end());
      simdjson::dom::element doc = parser.parse(r.body);  // valid Block Kit JSON
      EXPECT_GT(simdjson::dom::array(doc["blocks"]).size(), 0u);
    } else {
      EXPECT_EQ(r.target, "/bot42:SECRET/sendMessage");
      telegram_ids.insert(ids.begin(), ids.end());
    }
  }
  EXPECT_EQ(slack_ids, all_ids);          // every alert, once, in order
  EXPECT_EQ(telegram_ids, critical_ids);  // the route keeps only critical ones
}

}  // namespace
}  // namespace aftershock::testing
