// The alert sinks `aftershockd run` wires in every role: a fan-out to several sinks (the JSONL
// file, the outbox, the terminal) and readable lines (or JSON) on stdout for a person
// watching. Single-threaded use: the thread that makes or consumes alerts owns them.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "daemon/replay.h"
#include "exporters/alert_sink.h"
#include "rules/alert.h"

namespace aftershock::daemon {

/// Hands each alert to several sinks, in the order added (which it does not own).
class fanout_sink final : public exporters::alert_sink {
 public:
  void add(exporters::alert_sink* s) { sinks_.push_back(s); }
  void publish(const rules::alert& a) override {
    for (auto* s : sinks_) s->publish(a);
  }
  void flush() override {
    for (auto* s : sinks_) s->flush();
  }

 private:
  std::vector<exporters::alert_sink*> sinks_;
};

/// One line per alert on stdout: human_line() or the alert's JSON.
class print_sink final : public exporters::alert_sink {
 public:
  explicit print_sink(bool json) : json_(json) {}
  void publish(const rules::alert& a) override {
    const std::string line = json_ ? rules::to_json(a) : human_line(a);
    std::fprintf(stdout, "%s\n", line.c_str());
    // Alerts are rare and someone is watching: show each as it fires, even through a pipe.
    std::fflush(stdout);
  }
  void flush() override { std::fflush(stdout); }

 private:
  bool json_;
};

}  // namespace aftershock::daemon
