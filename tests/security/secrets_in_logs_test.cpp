// Planted secrets never appear in what aftershockd writes: its stderr and stdout, the alerts
// file and the state directory (outbox journal), while feeds and destinations fail in the ways
// that produce the most log lines (HTTP errors on the WebSocket upgrade, refused connections,
// HTTP 501 from a destination), and /metrics. Secrets come in through env: and file:
// references, in feed keys, a Finnhub token (which travels in the URL), a Slack webhook URL, a Telegram bot token
// and a webhook Authorization header. Everything runs on 127.0.0.1; nothing leaves the host.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config.h"
#include "tests/support/child_process.h"

namespace aftershock {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string k_bin = AFTERSHOCK_BIN_DIR;
const std::string k_source = AFTERSHOCK_SOURCE_DIR;

// Distinctive values: none of these strings occurs anywhere else.
const std::string k_slack_secret = "T0PLANTED/B0PLANTED/slackPlantedSecret7f3a";
const std::string k_apca_key = "apcaPlantedKeyId9d2e";
const std::string k_apca_secret = "apcaPlantedSecretFile4c1b";
const std::string k_finnhub_token = "finnhubPlantedToken8a6f";
const std::string k_telegram_token = "123456789:telegramPlantedToken5e0d";
const std::string k_header_secret = "Bearer headerPlantedSecret2b9c";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

// Every file under `dir`, concatenated (the state directory's journals and anything else).
std::string read_tree(const fs::path& dir) {
  std::string all;
  if (!fs::exists(dir)) return all;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) all += read_all(e.path());
  }
  return all;
}

void expect_no_secret(const std::string& where, const std::string& text) {
  for (const std::string& secret : {k_slack_secret, k_apca_key, k_apca_secret, k_finnhub_token,
                                    k_telegram_token, k_header_secret}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " leaked into " << where;
  }
  // Parts of secrets that identify them on their own.
  for (const std::string part : {"slackPlantedSecret", "telegramPlantedToken", "headerPlanted",
                                 "apcaPlantedSecret", "finnhubPlanted", "apcaPlantedKey"}) {
    EXPECT_EQ(text.find(part), std::string::npos) << part << " leaked into " << where;
  }
}

// python3's http.server on 127.0.0.1: port 0, the port read from its first line. It answers
// GET with 404 (so WebSocket upgrades fail with an HTTP error) and POST with 501.
struct http_error_server {
  std::unique_ptr<test::child_process> process;
  unsigned short port = 0;
  explicit http_error_server(const std::string& dir) {
    test::child_process::options opt;
    opt.quiet_stderr = true;
    process = test::child_process::start(
        {"python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, "0"},
        opt);
    if (!process) return;
    // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
    if (auto line = process->read_line(15s)) {
      const std::size_t at = line->find(" port ");
      if (at != std::string::npos) port = static_cast<unsigned short>(std::stoi(line->substr(at + 6)));
    }
  }
};

// The local IPv4 addresses listening on `port` (from /proc/net/tcp, "0100007F" = 127.0.0.1).
std::vector<std::string> listeners_on(unsigned short port) {
  std::vector<std::string> out;
  std::ifstream in("/proc/net/tcp");
  std::string line;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, ":%04X", port);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (state == "0A" && local.size() > 5 && local.compare(local.size() - 5, 5, suffix) == 0) {
      out.push_back(local.substr(0, local.size() - 5));
    }
  }
  return out;
}

std::string config_text(unsigned short http_port, unsigned short closed_port,
                        const std::string& secret_file, const std::string& token_file) {
  std::string base = read_all(k_source + "/deploy/config/aftershock.yaml");
  // Calendars are relative to the config; this one lives in a temp dir.
  for (std::size_t at = 0; (at = base.find("  - calendars/", at)) != std::string::npos;) {
    base.replace(at, 4, "  - " + k_source + "/deploy/config/");
    at += 4;
  }
  const std::string http = "127.0.0.1:" + std::to_string(http_port);
  const std::string closed = "127.0.0.1:" + std::to_string(closed_port);
  return base + R"(
feeds:
  - name: alpaca-planted
    dialect: alpaca-stocks
    url: ws://)" + http + R"(/v2/sip
    key: env:AFTERSHOCK_TEST_APCA_KEY
    secret: file:)" + secret_file + R"(
    symbols: [NVDA]
  - name: finnhub-planted
    dialect: finnhub
    url: ws://)" + closed + R"(/
    key: env:AFTERSHOCK_TEST_FINNHUB_TOKEN
    symbols: [NVDA]
  - name: finnhub-planted-http
    dialect: finnhub
    url: ws://)" + http + R"(/
    key: env:AFTERSHOCK_TEST_FINNHUB_TOKEN
    symbols: [AMD]
outputs:
  destinations:
    - name: slack-planted
      type: slack
      url: env:AFTERSHOCK_TEST_SLACK_URL
      timeout: 2s
      backoff: {initial: 100ms, max: 500ms}
    - name: telegram-planted
      type: telegram
      url: http://)" + closed + R"(
      token: file:)" + token_file + R"(
      chat_id: "-1001234567890"
      timeout: 2s
      backoff: {initial: 100ms, max: 500ms}
    - name: webhook-planted
      type: webhook
      url: http://)" + http + R"(/hook
      headers: {Authorization: env:AFTERSHOCK_TEST_AUTH}
      timeout: 2s
      backoff: {initial: 100ms, max: 500ms}
)";
}

class secrets : public testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<http_error_server>(dir_.path());
    ASSERT_NE(server_->port, 0) << "python3 http.server did not start";
    closed_port_ = test::free_port();  // nothing listens there: connections are refused
    secret_file_ = dir_.file("apca-secret");
    token_file_ = dir_.file("telegram-token");
    ASSERT_TRUE(test::write_file(secret_file_, k_apca_secret + "\n"));
    ASSERT_TRUE(test::write_file(token_file_, k_telegram_token + "\n"));
    config_ = dir_.file("aftershock.yaml");
    ASSERT_TRUE(test::write_file(
        config_, config_text(server_->port, closed_port_, secret_file_, token_file_)));
    state_ = dir_.file("state");
    fs::create_directories(state_);
  }

  std::vector<std::string> env() const {
    return {"AFTERSHOCK_TEST_APCA_KEY=" + k_apca_key,
            "AFTERSHOCK_TEST_FINNHUB_TOKEN=" + k_finnhub_token,
            "AFTERSHOCK_TEST_SLACK_URL=http://127.0.0.1:" + std::to_string(server_->port) +
                "/services/" + k_slack_secret,
            "AFTERSHOCK_TEST_AUTH=" + k_header_secret};
  }

  // Runs aftershockd with `args`, stdout and stderr to files; returns its exit status.
  int run(const std::string& name, const std::vector<std::string>& args,
          std::chrono::milliseconds timeout) {
    std::string command = "exec \"$0\"";
    for (std::size_t i = 0; i < args.size(); ++i) {
      command += " \"${" + std::to_string(i + 1) + "}\"";
    }
    command += " >" + dir_.file(name + ".out") + " 2>" + dir_.file(name + ".err");
    std::vector<std::string> argv = {"/bin/sh", "-c", command, k_bin + "/aftershockd"};
    argv.insert(argv.end(), args.begin(), args.end());
    test::child_process::options opt;
    opt.capture_stdout = false;
    opt.extra_env = env();
    auto child = test::child_process::start(argv, opt);
    if (!child) return -1;
    const auto code = child->wait_exit(timeout);
    return code ? *code : child->stop();
  }

  std::string output_of(const std::string& name) {
    const std::string all = read_all(dir_.file(name + ".out")) + read_all(dir_.file(name + ".err"));
    if (std::getenv("AFTERSHOCK_TEST_SHOW_LOGS")) std::printf("---- %s\n%s", name.c_str(), all.c_str());
    return all;
  }

  test::temp_dir dir_;
  std::unique_ptr<http_error_server> server_;
  unsigned short closed_port_ = 0;
  std::string secret_file_, token_file_, config_, state_;
};

TEST_F(secrets, check_config_run_replay_deliver_and_test_notify_never_print_them) {
  // check-config: references only, nothing resolved.
  EXPECT_EQ(run("check", {"check-config", config_}, 30s), 0) << output_of("check");
  expect_no_secret("check-config output", output_of("check"));

  // run: three feeds failing (HTTP 404 on the upgrade, refused) and reconnecting, metrics on
  // a port of its choosing. Until the log shows every feed failed at least once, then SIGTERM.
  std::string metrics_text;
  unsigned short metrics_port = 0;
  {
    std::string command = "exec \"$0\" run --config \"$1\" --state-dir \"$2\" --print none "
                          "--status-interval 1 --alerts-out \"$3\" --metrics-listen 127.0.0.1:0 >" +
                          dir_.file("run.out") + " 2>" + dir_.file("run.err");
    test::child_process::options opt;
    opt.capture_stdout = false;
    opt.extra_env = env();
    auto child = test::child_process::start(
        {"/bin/sh", "-c", command, k_bin + "/aftershockd", config_, state_,
         dir_.file("run-alerts.jsonl")},
        opt);
    ASSERT_NE(child, nullptr);
    for (int i = 0; i < 300; ++i) {
      const std::string err = read_all(dir_.file("run.err"));
      if (err.find("feed alpaca-planted:") != std::string::npos &&
          err.find("feed finnhub-planted-http:") != std::string::npos &&
          err.find("feed finnhub-planted:") != std::string::npos) {
        break;
      }
      std::this_thread::sleep_for(100ms);
    }
    std::this_thread::sleep_for(1500ms);  // a reconnect or two more, and a status line
    // "metrics: http://127.0.0.1:PORT/metrics"
    const std::string err = read_all(dir_.file("run.err"));
    const std::string tag = "metrics: http://127.0.0.1:";
    if (const std::size_t at = err.find(tag); at != std::string::npos) {
      metrics_port = static_cast<unsigned short>(std::atoi(err.c_str() + at + tag.size()));
    }
    if (metrics_port != 0) {
      // Bound to loopback only: no 0.0.0.0 (00000000) listener on that port.
      EXPECT_EQ(listeners_on(metrics_port), std::vector<std::string>{"0100007F"});
      test::run_program({"curl", "-s", "--max-time", "10",
                         "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics"},
                        20s, &metrics_text);
    }
    child->send_signal(SIGTERM);
    EXPECT_TRUE(child->wait_exit(15s).has_value());
  }
  ASSERT_NE(metrics_port, 0) << "no metrics endpoint in the log:\n" << output_of("run");
  EXPECT_NE(metrics_text.find("alpaca-planted"), std::string::npos)
      << "/metrics did not describe the feeds:\n" << metrics_text.substr(0, 3000);
  expect_no_secret("/metrics", metrics_text);
  const std::string run_output = output_of("run");
  EXPECT_NE(run_output.find("alpaca-planted"), std::string::npos)
      << "the run logged nothing about the failing feeds:\n" << run_output;
  expect_no_secret("run output", run_output);

  // replay --deliver: the DeepSeek day's alerts into three failing destinations.
  const int replay_code =
      run("replay", {"replay", "--config", config_, "--deliver", "--state-dir", state_,
                     "--deliver-timeout", "4", "--alerts-out", dir_.file("replay-alerts.jsonl"),
                     k_source + "/tests/data/scenarios/deepseek-2025-01-27/capture.ndjson"},
          120s);
  EXPECT_NE(replay_code, 0) << "nothing could be delivered\n" << output_of("replay");
  expect_no_secret("replay --deliver output", output_of("replay"));

  // test-notify through each destination.
  for (const std::string dest : {"slack-planted", "telegram-planted", "webhook-planted"}) {
    const int code = run("notify-" + dest,
                         {"test-notify", dest, "--config", config_, "--timeout", "3"}, 60s);
    EXPECT_NE(code, 0) << output_of("notify-" + dest);
    expect_no_secret("test-notify " + dest + " output", output_of("notify-" + dest));
  }

  expect_no_secret("the alerts files", read_all(dir_.file("run-alerts.jsonl")) +
                                           read_all(dir_.file("replay-alerts.jsonl")));
  expect_no_secret("the state directory", read_tree(state_));
}

// Without a metrics: section the endpoint listens on loopback; exposing it is a choice.
TEST(metrics_default, listens_on_loopback_unless_configured) {
  EXPECT_EQ(daemon::daemon_config{}.metrics.listen.rfind("127.0.0.1:", 0), 0u)
      << daemon::daemon_config{}.metrics.listen;
}

}  // namespace
}  // namespace aftershock

