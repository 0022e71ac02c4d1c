// `aftershockd replay`: plays capture files through the dialect parsers and the rules engine
// on event time, as fast as the CPU allows, and writes the alerts. The engine runs on the
// calling thread; by default the files are read and parsed on a second thread, as the live
// daemon's sessions parse on its I/O thread (the engine sees the same events in the same order
// either way, so the alerts are the same).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "daemon/config_loader.h"
#include "exporters/alert_sink.h"
#include "telemetry/feed_samples.h"
#include "telemetry/metrics.h"

namespace aftershock::daemon {

enum class print_mode { json, human, none };

struct replay_options {
  std::vector<std::string> captures;  // capture v1 files, merged in `at` order
  std::string alerts_out;             // JSONL path, "-" for stdout, empty for none
  print_mode print = print_mode::none;  // what to print on stdout besides alerts_out
  exporters::alert_sink* deliver_to = nullptr;  // --deliver: also publish here (the outbox)
  telemetry::metrics* metrics = nullptr;        // --metrics-listen: engine counters, alerts
  telemetry::replay_feeds* feeds = nullptr;     // ... and the capture's feeds as metrics see them
  bool parse_thread = true;  // read and parse on a second thread; false: all on the caller's
};

struct replay_summary {
  std::size_t frames = 0;
  std::size_t events = 0;
  std::size_t parse_errors = 0;   // frames or batched elements rejected by a dialect parser
  std::size_t bad_lines = 0;      // capture lines that were not capture records
  std::size_t controls = 0;       // control messages (greetings, acks, pings)
  std::size_t alerts = 0;
  double seconds = 0;
};

/// Replays with an already loaded configuration. Returns the summary; alerts go to the
/// configured outputs. Unreadable capture files are reported through `error` and skipped.
replay_summary replay_captures(const loaded_config& config, const replay_options& options,
                               std::string* error);

/// One line a person wants to read: time, severity, ticker, move and baseline, cause.
std::string human_line(const rules::alert& a);

}  // namespace aftershock::daemon
