// aftershockd's log output (spdlog, one default logger "aftershockd", on stderr), in the form
// the reader needs:
//   journal  under systemd (stderr is the stream $JOURNAL_STREAM names): one line per message
//            with an sd-daemon priority prefix (<3> error ... <7> debug) so journald files it at
//            the right level, then key=value fields: level=warning component=feed feed=alpaca
//            msg="feed alpaca: ...";
//   color    on a terminal: time, colored level, message;
//   plain    anywhere else (files, pipes, CI): UTC timestamp, level, message.
// Repeated warnings and errors are rate-limited per message shape (digits ignored): a burst
// passes, then the rest are counted and the next line allowed says how many were suppressed.
// Info and debug lines, and the answers to an operator's action ("reload: ...", "run: ..."),
// are never held back.
//
// Thread-safety: setup_logging() and set_log_level() from the main thread (before threads
// start, or at a reload); the sinks themselves are synchronised (spdlog _mt sinks).
#pragma once

#include <spdlog/common.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "exporters/log_limiter.h"

namespace aftershock::daemon {

enum class log_style { automatic, journal, color, plain };

struct log_settings {
  spdlog::level::level_enum level = spdlog::level::info;
  log_style style = log_style::automatic;
  std::uint32_t burst = 5;  // identical-shape lines per interval
  std::chrono::seconds interval{10};
};

/// trace, debug, info, warning (or warn), error, critical, off; nullopt otherwise.
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name);

/// journal when $JOURNAL_STREAM names stderr's device:inode, color when stderr is a terminal
/// (and $NO_COLOR is unset), plain otherwise.
log_style detect_log_style();

/// Installs the "aftershockd" default logger on stderr. Returns it.
std::shared_ptr<spdlog::logger> setup_logging(const log_settings& settings);

/// Changes the level of the default logger (config reload, --log-level after the config).
void set_log_level(spdlog::level::level_enum level);

/// One journal line for `message` (no newline): "<6>level=info component=run msg=\"run: ...\"".
std::string journal_line(spdlog::level::level_enum level, std::string_view message);

/// The sd-daemon priority of a level: 2 critical, 3 error, 4 warning, 6 info, 7 debug/trace.
int journal_priority(spdlog::level::level_enum level);

/// Forwards to `inner`, letting at most `burst` warnings or errors of one shape (level and text
/// with digits ignored) through per `interval`; the next line of that shape allowed afterwards ends
/// with " (N similar messages suppressed)". Tracks at most 4096 shapes (then starts over).
class rate_limited_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  rate_limited_sink(std::shared_ptr<spdlog::sinks::sink> inner, std::uint32_t burst,
                    std::chrono::steady_clock::duration interval);

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;
  void set_pattern_(const std::string& pattern) override;
  void set_formatter_(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
  std::uint32_t burst_;
  std::chrono::steady_clock::duration interval_;
  std::unordered_map<std::string, exporters::log_limiter> shapes_;
};

}  // namespace aftershock::daemon
