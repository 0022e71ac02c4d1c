#include "daemon/replay.h"

#include <chrono>
#include <algorithm>
#include <memory>
#include <optional>

#include "exporters/alert_sink.h"
#include "feeds/capture_reader.h"
#include "feeds/frame_parser.h"
#include "rules/engine.h"
#include "telemetry/engine_probe.h"

namespace aftershock::daemon {

namespace {

}  // namespace

std::string human_line(const rules::alert& a) {
  std::string line = rules::format_rfc3339_s(a.event_time);
  line[10] = ' ';
  line.resize(16);  // "2025-01-27 09:33"
  line += "Z  ";
  std::string level = rules::to_string(a.level);
  level.resize(9, ' ');
  line += level;
  line += a.summary;
  return line;
}

replay_summary replay_captures(const loaded_config& config, const replay_options& options,
                               std::string* error) {
  replay_summary summary;
  const auto started = std::chrono::steady_clock::now();

  std::unique_ptr<exporters::jsonl_sink> out;
  if (!options.alerts_out.empty()) {
    out = std::make_unique<exporters::jsonl_sink>(options.alerts_out);
    if (!out->ok()) {
      if (error) *error = "cannot write alerts to " + options.alerts_out;
      out.reset();
    }
  }

  feeds::capture_reader reader;
  for (const auto& path : options.captures) {
    std::string text;  // read with room for the parser padding: no copy on add()
    if (!feeds::read_capture_file(path, text, nullptr)) {
      if (error) *error = "cannot read capture " + path;
      continue;
    }
    reader.add(path, std::move(text));
  }

  std::vector<feeds::frame_parser> parsers;
  parsers.reserve(feeds::k_dialect_count);
  for (std::size_t d = 0; d < feeds::k_dialect_count; ++d) {
    parsers.emplace_back(static_cast<feeds::dialect>(d));
  }

  rules::engine engine(config.compiled);
  std::optional<telemetry::engine_probe> probe;  // metrics, read between events
  if (options.metrics) probe.emplace(*options.metrics);
  std::vector<rules::event> events;
  std::vector<rules::alert> alerts;
  auto handle = [&](const std::vector<rules::alert>& batch) {
    for (const auto& a : batch) {
      ++summary.alerts;
      if (out) out->publish(a);
      if (options.deliver_to) options.deliver_to->publish(a);
      if (options.alerts_out == "-") continue;
      if (options.print == print_mode::human && a.status == rules::alert_status::firing) {
        std::printf("%s\n", human_line(a).c_str());
      } else if (options.print == print_mode::json) {
        std::printf("%s\n", rules::to_json(a).c_str());
      }
    }
  };
  feeds::capture_record record;
  while (reader.next(record)) {
    ++summary.frames;
    // Only the metrics probe reads it: no clock read per frame otherwise.
    const auto frame_started =
        probe ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    events.clear();
    feeds::frame_parser& parser = parsers[static_cast<std::size_t>(record.feed)];
    // Frames inside the capture's padded text are parsed where they lie.
    const feeds::parse_result parsed = record.padded ? parser.parse_padded(record.frame, events)
                                                     : parser.parse(record.frame, events);
    summary.parse_errors += parsed.rejected;
    summary.controls += parsed.controls.size();
    summary.events += events.size();
    if (options.feeds) {
      rules::time_ns newest = 0;
      for (const auto& e : events) newest = std::max(newest, rules::event_time(e));
      options.feeds->on_frame(record.feed, record.received, record.frame.size(), events.size(),
                              parsed.rejected, newest);
    }
    engine.process_batch(events, alerts, [&](const rules::event& e, std::vector<rules::alert>& made) {
      if (probe) probe->after_event(engine, e, made, frame_started);
      handle(made);
    });
    if (probe) probe->tick(engine);
  }
  // Bursts held back for a digest are emitted at the end of the capture, never lost.
  alerts.clear();
  engine.flush(alerts);
  handle(alerts);
  if (probe) {
    probe->count_alerts(alerts);
    probe->tick(engine, /*force=*/true);
  }
  if (options.feeds) options.feeds->finish();
  if (out) out->flush();
  if (options.deliver_to) options.deliver_to->flush();
  std::fflush(stdout);
  summary.bad_lines = reader.stats().bad_lines;
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace aftershock::daemon
