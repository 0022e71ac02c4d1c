// A real Alertmanager (Debian's prometheus-alertmanager, on 127.0.0.1 at a port chosen now,
// gossip off, its own storage in a temp dir) receives the DeepSeek day replayed through
// `aftershockd replay --deliver` with the default configuration plus an alertmanager output,
// and `amtool alert query` lists them. Skipped when Alertmanager is not installed
// (scripts/setup installs it).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace aftershock::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* k_alertmanager = "/usr/bin/prometheus-alertmanager";
constexpr const char* k_amtool = "/usr/bin/amtool";

std::uint16_t free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

// Runs a command, returns its exit status and stdout.
std::pair<int, std::string> run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
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

TEST(alertmanager, receives_the_deepseek_alerts) {
  if (!fs::exists(k_alertmanager) || !fs::exists(k_amtool)) {
    GTEST_SKIP() << "prometheus-alertmanager is not installed (scripts/setup installs it)";
  }
  const fs::path dir = fs::path(::testing::TempDir()) / ("am-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "data");
  std::ofstream(dir / "alertmanager.yml") << "route:\n  receiver: blackhole\n"
                                             "receivers:\n  - name: blackhole\n";
  const std::uint16_t port = free_port();
  const std::string am_url = "http://127.0.0.1:" + std::to_string(port);

  const pid_t am = ::fork();
  if (am == 0) {
    const std::string config = "--config.file=" + (dir / "alertmanager.yml").string();
    const std::string storage = "--storage.path=" + (dir / "data").string();
    const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execl(k_alertmanager, k_alertmanager, config.c_str(), storage.c_str(), listen.c_str(),
            "--cluster.listen-address=", "--log.level=warn", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  struct stop_am {
    pid_t pid;
    ~stop_am() {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
  } stopper{am};

  const std::string amtool = std::string(k_amtool) + " --alertmanager.url=" + am_url;
  bool ready = false;
  for (int i = 0; i < 100 && !ready; ++i) {
    ready = run(amtool + " alert query >/dev/null 2>&1").first == 0;
    if (!ready) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(ready) << "Alertmanager did not come up on " << am_url;

  // The default configuration plus an Alertmanager output.
  const std::string source = AFTERSHOCK_SOURCE_DIR;
  std::string config = read_file(source + "/deploy/config/aftershock.yaml");
  config +=
      "\noutputs:\n"
      "  grafana_url: \"https://grafana.example/d/aftershock?var-symbol={{symbol}}\"\n"
      "  destinations:\n"
      "    - name: alertmanager\n"
      "      type: alertmanager\n"
      "      url: " +
      am_url + "\n";
  const std::string config_path = (dir / "aftershock.yaml").string();
  std::ofstream(config_path) << config;
  // The calendars are data files resolved beside the configuration.
  fs::copy(source + "/deploy/config/calendars", dir / "calendars", fs::copy_options::recursive);
  const std::string alerts_path = (dir / "alerts.jsonl").string();
  const auto [rc, out] =
      run(std::string(AFTERSHOCK_BIN_DIR) + "/aftershockd replay --config " + config_path +
          " --deliver --state-dir " + (dir / "state").string() + " --alerts-out " + alerts_path +
          " --print none " + AFTERSHOCK_TEST_DATA_DIR +
          "/scenarios/deepseek-2025-01-27/capture.ndjson 2>&1");
  ASSERT_EQ(rc, 0) << out;

  // What should be firing: the last alert of each fingerprint (escalations end the earlier
  // severity's label set), unless it resolved.
  // fingerprint -> "rule|symbol|direction|severity", the label values Alertmanager should hold
  std::map<std::string, std::string> expected;
  simdjson::dom::parser parser;
  std::istringstream lines(read_file(alerts_path));
  std::string line;
  std::size_t alerts = 0;
  while (std::getline(lines, line)) {
    simdjson::dom::element a = parser.parse(line);
    ++alerts;
    const std::string fp{std::string_view(a["fingerprint"])};
    if (std::string_view(a["status"]) == "resolved") {
      expected.erase(fp);
      continue;
    }
    // Basket alerts carry the basket's name instead of a symbol.
    const std::string who = a["symbol"].is_null() ? std::string(std::string_view(a["name"]))
                                                  : std::string(std::string_view(a["symbol"]));
    expected[fp] = std::string(std::string_view(a["rule"])) + "|" + who + "|" +
                   std::string(std::string_view(a["direction"])) + "|" +
                   std::string(std::string_view(a["severity"]));
  }
  ASSERT_GT(alerts, 10u);

  const auto [qrc, json] = run(amtool + " alert query -o json");
  ASSERT_EQ(qrc, 0) << json;
  std::set<std::string> listed;
  simdjson::dom::element doc = parser.parse(json);
  for (simdjson::dom::element a : simdjson::dom::array(doc)) {
    const auto labels = a["labels"];
    EXPECT_EQ(std::string_view(labels["alertname"]).substr(0, 11), "aftershock_");
    const auto symbol = labels["symbol"];
    const std::string who = symbol.error() ? std::string(std::string_view(labels["basket"]))
                                           : std::string(std::string_view(symbol));
    listed.insert(std::string(std::string_view(labels["rule"])) + "|" + who + "|" +
                  std::string(std::string_view(labels["direction"])) + "|" +
                  std::string(std::string_view(labels["severity"])));
  }
  for (const auto& [fp, want] : expected) {
    EXPECT_TRUE(listed.count(want)) << want << " (" << fp << ") not in amtool output";
  }
  EXPECT_EQ(listed.size(), expected.size());

  // And the plain listing people read names them.
  const auto [trc, text] = run(amtool + " alert query");
  EXPECT_EQ(trc, 0);
  EXPECT_NE(text.find("aftershock_move"), std::string::npos) << text;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace aftershock::testing
