#include "daemon/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ansicolor_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace aftershock::daemon {

namespace {

// Writes journal_line() per message to stderr; journald reads the prefix as the priority.
class journal_stream_sink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line =
        journal_line(msg.level, std::string_view(msg.payload.data(), msg.payload.size()));
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

// A message's shape for rate limiting: its level and text with every digit run folded, so
// "reconnect in 1.2 s (attempt 3)" and "reconnect in 0.8 s (attempt 4)" count as one.
std::string shape_of(const spdlog::details::log_msg& msg) {
  std::string key;
  key.reserve(msg.payload.size() + 2);
  key.push_back(static_cast<char>('0' + static_cast<int>(msg.level)));
  bool in_digits = false;
  for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
    const bool digit = std::isdigit(static_cast<unsigned char>(c)) != 0;
    if (digit && in_digits) continue;
    key.push_back(digit ? '#' : c);
    in_digits = digit;
  }
  return key;
}

void append_quoted(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out.push_back(c);
    }
  }
  out.push_back('"');
}

bool is_word(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

// "feed alpaca: ..." names one of several things of a kind; each kind becomes its own field.
bool is_qualifier(std::string_view s) {
  return s == "feed" || s == "destination" || s == "rule" || s == "exchange";
}

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

const char* level_word(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warning";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "info";
  }
}

}  // namespace

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warning" || name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "critical") return spdlog::level::critical;
  if (name == "off") return spdlog::level::off;
  return std::nullopt;
}

int journal_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical:
      return 2;  // SD_CRIT
    case spdlog::level::err:
      return 3;  // SD_ERR
    case spdlog::level::warn:
      return 4;  // SD_WARNING
    case spdlog::level::info:
      return 6;  // SD_INFO
    default:
      return 7;  // SD_DEBUG
  }
}

std::string journal_line(spdlog::level::level_enum level, std::string_view message) {
  std::string out = "<" + std::to_string(journal_priority(level)) + ">level=" + level_word(level);
  // Messages start with what they are about ("run: ...", "feed alpaca: ..."): a field each,
  // so `journalctl -u aftershock | grep feed=alpaca` finds one feed's story.
  const std::size_t colon = message.find(": ");
  if (colon != std::string_view::npos) {
    const std::string_view head = message.substr(0, colon);
    const std::size_t space = head.find(' ');
    if (space == std::string_view::npos && is_word(head)) {
      out += " component=";
      out += head;
    } else if (space != std::string_view::npos && is_qualifier(head.substr(0, space)) &&
               is_name(head.substr(space + 1))) {
      out += " component=";
      out += head.substr(0, space);
      out += ' ';
      out += head.substr(0, space);
      out += '=';
      out += head.substr(space + 1);
    }
  }
  out += " msg=";
  append_quoted(out, message);
  return out;
}

log_style detect_log_style() {
  if (const char* stream = std::getenv("JOURNAL_STREAM"); stream != nullptr && *stream != '\0') {
    // "DEVICE:INODE" of the stream systemd connected stdout/stderr to; compare with stderr so a
    // child whose stderr was redirected elsewhere does not write priority prefixes into a file.
    unsigned long long dev = 0, ino = 0;
    struct stat st {};
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
        static_cast<unsigned long long>(st.st_dev) == dev &&
        static_cast<unsigned long long>(st.st_ino) == ino) {
      return log_style::journal;
    }
  }
  const char* no_color = std::getenv("NO_COLOR");
  if (isatty(STDERR_FILENO) && (no_color == nullptr || *no_color == '\0')) return log_style::color;
  return log_style::plain;
}

std::shared_ptr<spdlog::logger> setup_logging(const log_settings& settings) {
  const log_style style =
      settings.style == log_style::automatic ? detect_log_style() : settings.style;
  std::shared_ptr<spdlog::sinks::sink> inner;
  switch (style) {
    case log_style::journal:
      inner = std::make_shared<journal_stream_sink>();
      break;
    case log_style::color: {
      auto color =
          std::make_shared<spdlog::sinks::ansicolor_stderr_sink_mt>(spdlog::color_mode::always);
      color->set_pattern("%H:%M:%S.%e %^%-7l%$ %v");
      inner = color;
      break;
    }
    default: {
      auto plain = std::make_shared<spdlog::sinks::stderr_sink_mt>();
      plain->set_formatter(std::make_unique<spdlog::pattern_formatter>(
          "%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc));
      inner = plain;
      break;
    }
  }
  auto limited = std::make_shared<rate_limited_sink>(inner, settings.burst, settings.interval);
  auto logger = std::make_shared<spdlog::logger>("aftershockd", limited);
  logger->set_level(settings.level);
  logger->flush_on(spdlog::level::info);  // stderr is unbuffered anyway; files see lines at once
  spdlog::drop("aftershockd");
  spdlog::set_default_logger(logger);
  return logger;
}

void set_log_level(spdlog::level::level_enum level) { spdlog::default_logger()->set_level(level); }

rate_limited_sink::rate_limited_sink(std::shared_ptr<spdlog::sinks::sink> inner,
                                     std::uint32_t burst,
                                     std::chrono::steady_clock::duration interval)
    : inner_(std::move(inner)), burst_(burst == 0 ? 1 : burst), interval_(interval) {}

void rate_limited_sink::sink_it_(const spdlog::details::log_msg& msg) {
  // Floods are warnings and errors (a flapping feed, drops, a refusing destination); info
  // lines are the daemon's own milestones and debug/trace were asked for.
  // So are answers to an operator's action (a reload, a signal): each one is wanted.
  const std::string_view text(msg.payload.data(), msg.payload.size());
  if (msg.level < spdlog::level::warn || text.starts_with("reload: ") ||
      text.starts_with("run: ")) {
    inner_->log(msg);
    return;
  }
  if (shapes_.size() >= 4096) shapes_.clear();
  std::string key = shape_of(msg);
  auto it = shapes_.find(key);
  if (it == shapes_.end()) {
    it = shapes_.emplace(std::move(key), exporters::log_limiter(burst_, interval_)).first;
  }
  std::uint64_t suppressed = 0;
  if (!it->second.allow(suppressed)) return;
  if (suppressed == 0) {
    inner_->log(msg);
    return;
  }
  const std::string counted = fmt::format("{} ({} similar message{} suppressed)", text, suppressed,
                                          suppressed == 1 ? "" : "s");
  spdlog::details::log_msg copy = msg;
  copy.payload = spdlog::string_view_t(counted.data(), counted.size());
  inner_->log(copy);
}

void rate_limited_sink::flush_() { inner_->flush(); }

void rate_limited_sink::set_pattern_(const std::string& pattern) {
  // The journal sink ignores patterns; the others take it.
  inner_->set_pattern(pattern);
}

void rate_limited_sink::set_formatter_(std::unique_ptr<spdlog::formatter> formatter) {
  inner_->set_formatter(std::move(formatter));
}

}  // namespace aftershock::daemon
