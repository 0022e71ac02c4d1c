// aftershockd's logging (daemon/logging.h) and its operator-facing command line:
// - journal lines: sd-daemon priority prefix per level, key=value fields, quoting;
// - the style follows $JOURNAL_STREAM only when it names stderr itself;
// - repeated messages are rate-limited with a count of what was suppressed;
// - --version names the commit, the build type and the libraries; --help has the man-page
//   sections; the config's log_level is validated.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "child_process.h"
#include "daemon/config_loader.h"
#include "daemon/logging.h"

namespace aftershock::daemon {
namespace {

using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::StartsWith;

TEST(systemd_logging, journal_lines_carry_the_priority_and_key_value_fields) {
  EXPECT_EQ(
      journal_line(spdlog::level::info, "run: 4 feeds from /etc/aftershock/aftershock.yaml"),
      "<6>level=info component=run msg=\"run: 4 feeds from /etc/aftershock/aftershock.yaml\"");
  EXPECT_EQ(
      journal_line(spdlog::level::warn, "feed alpaca: reconnecting in 1.2 s"),
      "<4>level=warning component=feed feed=alpaca msg=\"feed alpaca: reconnecting in 1.2 s\"");
  EXPECT_EQ(journal_line(spdlog::level::err, "say \"hi\"\nbye\\"),
            "<3>level=error msg=\"say \\\"hi\\\"\\nbye\\\\\"")
      << "quotes, newlines and backslashes escaped: one journal entry per message";
  EXPECT_EQ(journal_line(spdlog::level::debug, "Some Text: with a colon"),
            "<7>level=debug msg=\"Some Text: with a colon\"")
      << "only a lower-case word (or 'feed NAME') before ': ' is a component";
  EXPECT_EQ(journal_priority(spdlog::level::trace), 7);
  EXPECT_EQ(journal_priority(spdlog::level::debug), 7);
  EXPECT_EQ(journal_priority(spdlog::level::info), 6);
  EXPECT_EQ(journal_priority(spdlog::level::warn), 4);
  EXPECT_EQ(journal_priority(spdlog::level::err), 3);
  EXPECT_EQ(journal_priority(spdlog::level::critical), 2);
}

TEST(systemd_logging, log_levels_parse_by_name) {
  EXPECT_EQ(parse_log_level("debug"), spdlog::level::debug);
  EXPECT_EQ(parse_log_level("warning"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("warn"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("off"), spdlog::level::off);
  EXPECT_FALSE(parse_log_level("loud"));
}

TEST(systemd_logging, journal_style_only_when_journal_stream_is_stderr) {
  struct stat st {};
  ASSERT_EQ(fstat(STDERR_FILENO, &st), 0);
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  setenv("JOURNAL_STREAM", mine.c_str(), 1);
  EXPECT_EQ(detect_log_style(), log_style::journal);
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  setenv("JOURNAL_STREAM", other.c_str(), 1);
  EXPECT_NE(detect_log_style(), log_style::journal)
      << "stderr redirected elsewhere (a child's file): no priority prefixes in the file";
  unsetenv("JOURNAL_STREAM");
}

TEST(systemd_logging, repeated_messages_are_rate_limited_with_a_count) {
  std::ostringstream out;
  auto inner = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  inner->set_pattern("%v");
  auto limited = std::make_shared<rate_limited_sink>(inner, 3, std::chrono::hours(1));
  spdlog::logger logger("rate_test", limited);
  for (int i = 0; i < 10; ++i) logger.warn("feed alpaca: queue full ({} frames)", 65536 + i);
  logger.info("run: something else");
  for (int i = 0; i < 10; ++i) logger.info("feed alpaca: authenticated ({})", i);
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 14u) << out.str();
  EXPECT_EQ(lines[0], "feed alpaca: queue full (65536 frames)");
  EXPECT_EQ(lines[2], "feed alpaca: queue full (65538 frames)");
  EXPECT_EQ(lines[3], "run: something else") << "other messages are not held back";
  EXPECT_EQ(lines[13], "feed alpaca: authenticated (9)") << "info lines are never held back";

  std::ostringstream out3;
  auto inner3 = std::make_shared<spdlog::sinks::ostream_sink_mt>(out3);
  inner3->set_pattern("%v");
  spdlog::logger logger3("rate_test3",
                         std::make_shared<rate_limited_sink>(inner3, 1, std::chrono::hours(1)));
  for (int i = 0; i < 5; ++i) logger3.error("reload: refused, 1 problem in x.yaml");
  std::size_t refused = 0;
  for (std::size_t at = out3.str().find("reload: refused"); at != std::string::npos;
       at = out3.str().find("reload: refused", at + 1)) {
    ++refused;
  }
  EXPECT_EQ(refused, 5u) << "every reload is answered: " << out3.str();

  // After the interval the next line of that shape says how many were suppressed.
  std::ostringstream out2;
  auto inner2 = std::make_shared<spdlog::sinks::ostream_sink_mt>(out2);
  inner2->set_pattern("%v");
  auto quick = std::make_shared<rate_limited_sink>(inner2, 1, std::chrono::milliseconds(1));
  spdlog::logger logger2("rate_test2", quick);
  logger2.warn("stale 1");
  logger2.warn("stale 2");
  logger2.warn("stale 3");
  // The limiter counts against the steady clock; wait past its 1 ms window without asserting
  // on time (the count is what is checked).
  const auto until = std::chrono::steady_clock::now() + 5ms;
  while (std::chrono::steady_clock::now() < until) {
  }
  logger2.warn("stale 4");
  EXPECT_THAT(out2.str(), HasSubstr("stale 4 (2 similar messages suppressed)")) << out2.str();
}

TEST(systemd_logging, the_config_log_level_is_validated) {
  const std::string base = R"(version: 1
default_exchange: XNAS
exchanges:
  - {mic: XNAS, tz_rule: "EST5EDT,M3.2.0,M11.1.0", regular: ["09:30-16:00"]}
rules:
  - {name: prev_close_move, kind: prev_close_move, threshold_pct: 5}
)";
  const loaded_config good = load_config(base + "log_level: debug\n", "good.yaml");
  EXPECT_TRUE(good.ok());
  EXPECT_EQ(good.config.log_level, "debug");
  const loaded_config bad = load_config(base + "log_level: loud\n", "bad.yaml");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].to_string(),
            "bad.yaml:7:12: log_level must be trace, debug, info, warning, error, critical or "
            "off, not 'loud'");
}

std::string run_daemon(const std::vector<std::string>& args, const std::string& tag,
                       int* code = nullptr) {
  test::child_process c("aftershockd", args, tag + "_" + std::to_string(getpid()));
  const int rc = c.wait(30s);
  if (code) *code = rc;
  return c.out() + c.err();
}

TEST(systemd_logging, version_names_commit_build_type_and_libraries) {
  int code = -1;
  const std::string out = run_daemon({"--version"}, "systemd_logging_version", &code);
  EXPECT_EQ(code, 0);
  EXPECT_THAT(out, StartsWith("aftershockd 0."));
  for (const char* field : {"commit:", "build type:", "Boost ", "OpenSSL ", "simdjson ",
                            "yaml-cpp ", "spdlog ", "CLI11 ", "libsystemd "}) {
    EXPECT_THAT(out, HasSubstr(field)) << out;
  }
}

TEST(systemd_logging, help_reads_like_a_man_page) {
  int code = -1;
  const std::string out = run_daemon({"--help"}, "systemd_logging_help", &code);
  EXPECT_EQ(code, 0);
  for (const char* section :
       {"EXIT STATUS", "FILES", "ENVIRONMENT", "SIGNALS", "78 ", "/etc/aftershock/aftershock.yaml",
        "SIGHUP", "NOTIFY_SOCKET", "--log-level"}) {
    EXPECT_THAT(out, HasSubstr(section)) << out;
  }
}

TEST(systemd_logging, a_bad_log_level_flag_is_a_usage_error) {
  int code = -1;
  run_daemon({"--log-level", "loud", "--version"}, "systemd_logging_bad_level", &code);
  EXPECT_EQ(code, 64);
}

}  // namespace
}  // namespace aftershock::daemon
