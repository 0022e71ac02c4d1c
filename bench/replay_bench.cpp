// Measures replay, bytes to events to alerts, against its ceiling (issues 4 and 8), all over
// one capture file in the same run:
//   ceiling  a bare simdjson On-Demand pass over the file (padded_string::load, iterate_many)
//            that touches every field the daemon's dialect parsers read, with the type they
//            read it as (strings unescaped, numbers parsed, symbol lists walked): the most any
//            JSON-reading replay could do with this simdjson on this machine
//   parse    our capture reader and dialect parsers (feeds/) to events, no engine
//   replay   `aftershockd replay` as it runs (daemon::replay_captures: read, parse, engine,
//            alerts counted but written nowhere)
// Prints frames/s and events/s of each and their ratios to the ceiling (target: replay at
// least 0.5 of it and 2,000,000 frames/s), then one JSON line for bench/run. Each stage runs
// --repeat times; the best run counts. A measuring program, not a test: never fails on figures.
//
//   cmake --build build-release --target replay_bench aftershock-feedsim
//   build-release/bin/aftershock-feedsim generate --symbols 5000 --events 2000000
//       --per-frame 1..100 --headline-every 1000 --out /tmp/day.ndjson
//   build-release/bin/replay_bench /tmp/day.ndjson [--config deploy/config/aftershock.yaml]
//       [--repeat 3] [--name LABEL]
#include <simdjson.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config_loader.h"
#include "daemon/replay.h"
#include "feeds/capture_reader.h"
#include "feeds/frame_parser.h"
#include "rules/engine.h"

namespace {

using clock_type = std::chrono::steady_clock;
using namespace aftershock;
namespace od = simdjson::ondemand;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// CPU time of this process: every stage runs on the calling thread alone, so on a shared,
// loaded machine this is the time the work took, where the wall clock also counts the time
// other processes had the core.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct stage_result {
  std::size_t frames = 0, events = 0, alerts = 0, errors = 0;
  double seconds = 0;      // wall clock
  double cpu = 0;          // CPU time
  double checksum = 0;  // keeps the ceiling's reads from being optimised away
  double fps() const { return seconds > 0 ? static_cast<double>(frames) / seconds : 0; }
  double eps() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0; }
  double cpu_fps() const { return cpu > 0 ? static_cast<double>(frames) / cpu : 0; }
  double cpu_eps() const { return cpu > 0 ? static_cast<double>(events) / cpu : 0; }
};

// ---- ceiling ---------------------------------------------------------------------------------

// Keys some dialect parser reads (the union over feeds/dialects/*.cpp). Values under any other
// key are skipped unread, as the parsers skip them.
bool read_key(std::string_view k) {
  switch (k.size()) {
    case 1:  // Alpaca, Finnhub, Polygon, Binance; not x, z (exchange, tape) and the like
      return std::string_view("STacdehilopqstuv").find(k[0]) != std::string_view::npos;
    case 2:
      return k == "bp" || k == "bs" || k == "ap" || k == "as" || k == "sc" || k == "sm" ||
             k == "rc" || k == "rm" || k == "oi" || k == "op" || k == "os" || k == "ci" ||
             k == "cp" || k == "cs" || k == "id" || k == "ev" || k == "ts";
    default:
      return k == "headline" || k == "summary" || k == "url" || k == "source" ||
             k == "symbols" || k == "created_at" || k == "updated_at" || k == "type" ||
             k == "msg" || k == "code" || k == "status" || k == "message" || k == "datetime" ||
             k == "related" || k == "published_at" || k == "body" || k == "lang" ||
             k == "symbol" || k == "price" || k == "size" || k == "open" || k == "high" ||
             k == "low" || k == "close" || k == "volume" || k == "start" || k == "end" ||
             k == "kind" || k == "sym" || k == "urlId" || k == "result";
  }
}

// Reads one value as the parsers would: strings unescaped, numbers as doubles, arrays (symbol
// lists, conditions) walked element by element, objects ("data" of Finnhub) field by field.
void touch(od::value v, std::string_view key, stage_result& r);

void touch_object(od::object o, stage_result& r) {
  for (auto field : o) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return;
    if (read_key(k) || k == "data") touch(field.value(), k, r);
  }
}

void touch(od::value v, std::string_view key, stage_result& r) {
  od::json_type type;
  if (v.type().get(type)) return;
  switch (type) {
    case od::json_type::string: {
      std::string_view s;
      if (!v.get_string().get(s)) r.checksum += static_cast<double>(s.size());
      break;
    }
    case od::json_type::number: {
      double d;
      if (!v.get_double().get(d)) r.checksum += d;
      break;
    }
    case od::json_type::array: {
      if (key == "c") break;  // a trade's condition list: the parsers skip it
      od::array a;
      if (v.get_array().get(a)) return;
      for (auto item : a) {
        od::value iv;
        if (item.get(iv)) return;
        od::json_type it;
        if (iv.type().get(it)) return;
        if (it == od::json_type::object) {
          od::object o;
          if (!iv.get_object().get(o)) {
            ++r.events;
            touch_object(o, r);
          }
        } else {
          touch(iv, key, r);
        }
      }
      break;
    }
    case od::json_type::object: {
      od::object o;
      if (!v.get_object().get(o)) touch_object(o, r);
      break;
    }
    default:
      break;
  }
}

stage_result ceiling_pass(const std::string& path) {
  stage_result r;
  const auto start = clock_type::now();
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path).get(text)) return r;
  od::parser parser;
  od::document_stream stream;
  if (parser.iterate_many(text, 1 << 24).get(stream)) return r;
  for (auto doc : stream) {
    od::object record;
    if (doc.get_object().get(record)) {
      ++r.errors;
      continue;
    }
    for (auto field : record) {
      std::string_view key;
      if (field.unescaped_key().get(key)) break;
      if (key == "at" || key == "feed") {
        std::string_view s;
        if (!field.value().get_string().get(s)) r.checksum += static_cast<double>(s.size());
      } else if (key == "frame") {
        ++r.frames;
        od::value frame;
        if (field.value().get(frame)) break;
        od::json_type type;
        if (frame.type().get(type)) break;
        if (type == od::json_type::object) {
          // Finnhub and generic frames: one object, its events under "data" or itself.
          od::object o;
          if (frame.get_object().get(o)) break;
          const std::size_t before = r.events;
          touch_object(o, r);
          if (r.events == before) ++r.events;
        } else {
          touch(frame, "", r);  // Alpaca, Polygon: an array of event objects
        }
      }
    }
  }
  r.seconds = seconds_since(start);
  return r;
}

// ---- parse only: capture reader + dialect parsers ---------------------------------------------

stage_result parse_pass(const std::string& path) {
  stage_result r;
  const auto start = clock_type::now();
  std::string text;
  if (!feeds::read_capture_file(path, text, nullptr)) return r;
  feeds::capture_reader reader;
  reader.add(path, std::move(text));
  std::vector<feeds::frame_parser> parsers;
  for (std::size_t i = 0; i < feeds::k_dialect_count; ++i) {
    parsers.emplace_back(static_cast<feeds::dialect>(i));
  }
  std::vector<rules::event> events;
  feeds::capture_record rec;
  while (reader.next(rec)) {
    ++r.frames;
    events.clear();
    feeds::frame_parser& parser = parsers[static_cast<std::size_t>(rec.feed)];
    const auto parsed = rec.padded ? parser.parse_padded(rec.frame, events) : parser.parse(rec.frame, events);
    r.events += events.size();
    r.errors += parsed.rejected;
  }
  r.seconds = seconds_since(start);
  return r;
}

// ---- full replay -------------------------------------------------------------------------------

stage_result replay_pass(const daemon::loaded_config& config, const std::string& path) {
  daemon::replay_options options;
  options.captures = {path};
  std::string error;
  const daemon::replay_summary s = daemon::replay_captures(config, options, &error);
  stage_result r;
  r.frames = s.frames;
  r.events = s.events;
  r.alerts = s.alerts;
  r.errors = s.parse_errors + s.bad_lines;
  r.seconds = s.seconds;
  return r;
}

// The best of `repeat` runs by CPU time (wall time of that same run kept beside it).
template <class F>
stage_result best_of(int repeat, F&& run) {
  stage_result best;
  for (int i = 0; i < repeat; ++i) {
    const double cpu_start = cpu_seconds();
    stage_result r = run();
    r.cpu = cpu_seconds() - cpu_start;
    if (best.cpu == 0 || (r.cpu > 0 && r.cpu < best.cpu)) best = r;
  }
  return best;
}

void print_stage(const char* name, const stage_result& r, const stage_result& ceiling,
                 const char* what) {
  std::printf("%-8s %9zu frames %10zu events: CPU %6.3f s, %9.0f frames/s, %6.2f M events/s",
              name, r.frames, r.events, r.cpu, r.cpu_fps(), r.cpu_eps() / 1e6);
  if (&r != &ceiling && ceiling.cpu_fps() > 0) {
    std::printf(", %.2f of ceiling", r.cpu_fps() / ceiling.cpu_fps());
  }
  std::printf(" | wall %6.3f s, %9.0f frames/s  (%s)\n", r.seconds, r.fps(), what);
}

}  // namespace

int main(int argc, char** argv) {
  std::string capture, config_path = "deploy/config/aftershock.yaml", name;
  int repeat = 3;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--name" && i + 1 < argc) {
      name = argv[++i];
    } else if (!a.empty() && a[0] != '-' && positional.size() < 2) {
      positional.push_back(a);
    } else {
      std::fprintf(stderr, "usage: replay_bench [CONFIG] CAPTURE [--config FILE] [--repeat N] "
                           "[--name LABEL]\n");
      return 64;
    }
  }
  // CAPTURE, or CONFIG CAPTURE as rules_bench takes them (bench/run).
  if (positional.size() == 2) {
    config_path = positional[0];
    capture = positional[1];
  } else if (positional.size() == 1) {
    capture = positional[0];
  } else {
    std::fprintf(stderr, "usage: replay_bench [CONFIG] CAPTURE [--config FILE] [--repeat N] "
                         "[--name LABEL]\n");
    return 64;
  }
  if (name.empty()) name = capture;
  const daemon::loaded_config config = daemon::load_config_file(config_path);
  if (!config.ok()) {
    for (const auto& e : config.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return 78;
  }
#define REPLAY_BENCH_TEXT2(x) #x
#define REPLAY_BENCH_TEXT(x) REPLAY_BENCH_TEXT2(x)
  std::printf("replay_bench: %s, rules of %s, simdjson %s (active kernel %s), best of %d\n",
              capture.c_str(), config_path.c_str(), REPLAY_BENCH_TEXT(SIMDJSON_VERSION),
              simdjson::get_active_implementation()->name().c_str(), repeat);
  std::printf("kernels  parse path: %s\n", feeds::parser_kernel_name());

  const stage_result ceiling = best_of(repeat, [&] { return ceiling_pass(capture); });
  const stage_result parse = best_of(repeat, [&] { return parse_pass(capture); });
  const stage_result replay = best_of(repeat, [&] { return replay_pass(config, capture); });
  print_stage("ceiling", ceiling, ceiling, "bare simdjson On-Demand, every field the daemon reads");
  print_stage("parse", parse, ceiling, "capture reader + dialect parsers, no engine");
  print_stage("replay", replay, ceiling, "aftershockd replay: read, parse, rules engine");
  std::printf("         %zu alerts, %zu rejected frames/elements or bad lines; targets: replay >= "
              "0.5 of the ceiling and >= 2,000,000 frames/s. Rates are per CPU second (the stages "
              "are single-threaded; the wall clock of a shared machine also counts other "
              "processes' turns)\n",
              replay.alerts, replay.errors);
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  std::printf(
      "BENCH_JSON {\"bench\":\"replay\",\"workload\":\"%s\",\"frames\":%zu,\"events\":%zu,"
      "\"alerts\":%zu,\"ceiling_frames_per_s\":%.0f,\"ceiling_events_per_s\":%.0f,"
      "\"parse_frames_per_s\":%.0f,\"parse_events_per_s\":%.0f,"
      "\"replay_frames_per_s\":%.0f,\"replay_events_per_s\":%.0f,"
      "\"parse_ceiling_ratio\":%.3f,\"replay_ceiling_ratio\":%.3f,"
      "\"wall_ceiling_frames_per_s\":%.0f,\"wall_replay_frames_per_s\":%.0f,"
      "\"wall_replay_ceiling_ratio\":%.3f,\"rates_per\":\"cpu_second\","
      "\"simdjson_kernel\":\"%s\",\"parse_kernel\":\"%s\"}\n",
      name.c_str(), replay.frames, replay.events, replay.alerts, ceiling.cpu_fps(),
      ceiling.cpu_eps(), parse.cpu_fps(), parse.cpu_eps(), replay.cpu_fps(), replay.cpu_eps(),
      ratio(parse.cpu_fps(), ceiling.cpu_fps()), ratio(replay.cpu_fps(), ceiling.cpu_fps()),
      ceiling.fps(), replay.fps(), ratio(replay.fps(), ceiling.fps()),
      simdjson::get_active_implementation()->name().c_str(), feeds::parser_kernel_name());
  return 0;
}
