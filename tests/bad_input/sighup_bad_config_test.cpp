// `aftershockd run` keeps its configuration when SIGHUP finds a bad file: every malformed config
// of tests/data/bad-configs/ in turn replaces the file, a SIGHUP follows, and each time the daemon
// logs the problem as FILE:LINE, says it still runs the old config (same hash), and keeps
// running. A good file at the end is applied, so the refusals were not a reload that never works.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_process.h"

namespace aftershock {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string k_source = AFTERSHOCK_SOURCE_DIR;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Relative paths in the configs (calendars) made absolute, since the copy lives in a temp dir.
std::string absolutize(std::string text, const std::string& relative, const std::string& dir) {
  for (std::size_t at = 0; (at = text.find(relative, at)) != std::string::npos;) {
    text.replace(at, relative.size(), dir);
    at += dir.size();
  }
  return text;
}

bool replace_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".new";
  return test::write_file(tmp, text) && std::rename(tmp.c_str(), path.c_str()) == 0;
}

// Waits until `file` holds at least `n` occurrences of `what`.
bool wait_for_count(const std::string& file, const std::string& what, std::size_t n,
                    std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (count_of(read_all(file), what) >= n) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string hash_after(const std::string& text, const std::string& tag) {
  const std::size_t at = text.find(tag);
  if (at == std::string::npos) return "";
  const std::size_t start = at + tag.size();
  const std::size_t end = text.find_first_of(");\n ", start);
  return text.substr(start, end - start);
}

TEST(sighup, a_bad_file_keeps_the_running_config_every_time) {
  test::temp_dir dir;
  const std::string config = dir.file("aftershock.yaml");
  const std::string calendars = k_source + "/deploy/config/calendars/";
  const std::string good =
      absolutize(read_all(k_source + "/deploy/config/aftershock.yaml"), "calendars/", calendars) +
      "\nfeeds:\n  - name: finnhub\n    dialect: finnhub\n    url: ws://127.0.0.1:" +
      std::to_string(test::free_port()) + "/\n    key: env:AFTERSHOCK_TEST_TOKEN\n"
      "    symbols: [NVDA]\n";
  ASSERT_TRUE(test::write_file(config, good));
  const std::string err = dir.file("run.err");

  test::child_process::options opt;
  opt.capture_stdout = false;
  opt.extra_env = {"AFTERSHOCK_TEST_TOKEN=t0ken"};
  auto child = test::child_process::start(
      {"/bin/sh", "-c",
       "exec \"$0\" run --config \"$1\" --print none --status-interval 0 --metrics-listen off "
       "--state-dir \"$2\" 2>\"$3\"",
       std::string(AFTERSHOCK_BIN_DIR) + "/aftershockd", config, dir.file("state"), err},
      opt);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(wait_for_count(err, "run: 1 feed from", 1)) << read_all(err);
  const std::string hash = hash_after(read_all(err), "(config ");
  ASSERT_FALSE(hash.empty()) << read_all(err);

  std::vector<fs::path> bad;
  for (const auto& e : fs::directory_iterator(fs::path(AFTERSHOCK_TEST_DATA_DIR) / "bad-configs")) {
    if (e.path().extension() == ".yaml") bad.push_back(e.path());
  }
  std::sort(bad.begin(), bad.end());
  ASSERT_GE(bad.size(), 30u);

  // Each file's expected message (its first comment) in a "reload: FILE:LINE:COL: message"
  // line says that reload is done. (The "reload: refused" summary has one shape for every file,
  // so the log's rate limiter holds it back after five a burst; the messages differ.)
  std::size_t refused = 0;
  for (const fs::path& file : bad) {
    SCOPED_TRACE(file.filename().string());
    const std::string text = read_all(file);
    const std::string tag = "# Expected error: ";
    const std::size_t eol = text.find('\n');
    ASSERT_EQ(text.rfind(tag, 0), 0u);
    const std::string expected = "reload: " + config + ":";
    const std::string message = text.substr(tag.size(), eol - tag.size());
    const std::size_t before = count_of(read_all(err), message);
    ASSERT_TRUE(replace_file(
        config, absolutize(text, "../../../deploy/config/", k_source + "/deploy/config/")));
    child->send_signal(SIGHUP);
    ASSERT_TRUE(wait_for_count(err, message, before + 1)) << read_all(err);
    ASSERT_TRUE(child->running()) << read_all(err);
    const std::string log = read_all(err);
    const std::size_t at = log.rfind(message);
    const std::size_t line_start = log.rfind('\n', at) + 1;
    EXPECT_NE(log.find(expected, line_start), std::string::npos) << "no FILE:LINE before " << message;
    ++refused;
  }
  const std::string log = read_all(err);
  EXPECT_EQ(count_of(log, "reload: reloaded"), 0u) << "a bad file was applied";
  EXPECT_EQ(count_of(log, "SIGHUP received"), refused);
  EXPECT_GE(count_of(log, "still running config " + hash), 1u);

  // A good file (one value changed) is applied: the reload path works.
  std::string changed = good;
  const std::size_t outlier = changed.find("\noutlier_pct: 5\n");
  ASSERT_NE(outlier, std::string::npos);
  changed.replace(outlier, 16, "\noutlier_pct: 6\n");
  ASSERT_TRUE(replace_file(config, changed));
  child->send_signal(SIGHUP);
  ASSERT_TRUE(wait_for_count(err, "reload: reloaded", 1)) << read_all(err);
  EXPECT_NE(read_all(err).find("(config " + hash + " -> "), std::string::npos) << read_all(err);

  child->send_signal(SIGTERM);
  const auto code = child->wait_exit(15s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << read_all(err);
  std::printf("[ measure  ] %zu bad reloads refused while running\n", refused);
}

}  // namespace
}  // namespace aftershock
