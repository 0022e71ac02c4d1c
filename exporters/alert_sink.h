// Where the daemon hands alerts after the engine made them: a sink takes alerts out of the
// process (a JSONL file, the durable outbox in front of chat destinations, ...). The engine never
// sees sinks; the daemon calls publish() from the engine's thread. Implementations say their own
// thread-safety; publish() must not block on the network (queue instead).
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "rules/alert.h"

namespace aftershock::exporters {

class alert_sink {
 public:
  virtual ~alert_sink() = default;
  /// Takes one alert. Must be fast and must not block on the network.
  virtual void publish(const rules::alert& a) = 0;
  /// Makes everything published so far durable or delivered, as far as the sink can.
  virtual void flush() {}
};

/// Writes one JSON line per alert to a file ("-" for stdout). Single-threaded use.
class jsonl_sink final : public alert_sink {
 public:
  /// Opens (truncates, or appends if `append`) the file; check ok() afterwards.
  explicit jsonl_sink(const std::string& path, bool append = false);
  ~jsonl_sink() override;
  jsonl_sink(const jsonl_sink&) = delete;
  jsonl_sink& operator=(const jsonl_sink&) = delete;

  bool ok() const noexcept { return file_ != nullptr; }
  void publish(const rules::alert& a) override;
  void flush() override;

 private:
  std::FILE* file_ = nullptr;
  bool owned_ = false;
  std::string line_;
};

}  // namespace aftershock::exporters
