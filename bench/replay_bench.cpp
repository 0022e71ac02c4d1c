// Measures replay, bytes to events to alerts, against its ceiling (issues 4 and 8), all over
// one capture file in the same run:
//   ceiling  a bare simdjson On-Demand pass over the file (padded_string::load, iterate_many)
//            that touches every field the daemon's dialect parsers read, with the type they
//            read it as (strings unescaped, numbers parsed, symbol lists walked): the most any
//            JSON-reading replay could do with this simdjson on this machine
//   parse    our capture reader and dialect parsers (feeds/) to events, no engine
//   replay   `aftershockd replay --threads 1` (daemon::replay_captures: read, parse, engine
//            on one thread, alerts counted but written nowhere), rated per CPU second
//   replay2  `aftershockd replay` as it runs by default: reading and parsing on a second
//            thread while the engine runs, rated by the wall clock (the CPU of both is shown)
// Prints frames/s and events/s of each and their ratios to the ceiling (target: replay at
// least 0.5 of it and 2,000,000 frames/s), then one JSON line for bench/run. Each stage runs
// --repeat times; the best run counts. A measuring program, not a test: never fails on figures.
//
//   cmake --build build-release --target replay_bench aftershock-feedsim
//   build-release/bin/aftershock-feedsim generate --symbols 5000 --events 2000000
//       --per-frame 1..100 --headline-every 1000 --out /tmp/day.ndjson
//   build-release/bin/replay_bench /tmp/day.ndjson [--config deploy/config/aftershock.yaml]
//       [--repeat 3] [--name LABEL] [--only ceiling|parse|replay]
//   (--only: that stage once, nothing else: for callgrind's instructions per event)
//   build-release/bin/replay_bench --dump-events OUT CAPTURE...
//   build-release/bin/replay_bench --dump-captures OUT FILE...
//   build-release/bin/replay_bench --dump-frames DIALECT OUT FILE...
//       measure nothing: they write every parse result and event, one line each with every
//       field (floats in hex), of captures merged, of files each read as a capture, or of files
//       each parsed as one frame. Diff two builds' dumps (over a day, the fuzz corpora) to
//       show a parser change emits the same events and counts
#include <simdjson.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "daemon/config_loader.h"
#include "daemon/replay.h"
#include "feeds/capture_reader.h"
#include "feeds/frame_parser.h"
#include "rules/engine.h"
#include "rules/event.h"

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

// ---- event dump: what the parsers emit, field by field ---------------------------------------

void dump_string(std::FILE* f, const std::string& s) {
  std::fputc('"', f);
  for (const char c : s) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      std::fprintf(f, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else {
      std::fputc(c, f);
    }
  }
  std::fputc('"', f);
}

// One value of a dump line, after a space: strings quoted and escaped, floats in hex (exact),
// integers in decimal, lists as their size and then their elements.
template <class V>
void put(std::FILE* f, const V& v) {
  if constexpr (std::is_same_v<V, std::string>) {
    std::fputc(' ', f);
    dump_string(f, v);
  } else if constexpr (std::is_same_v<V, std::vector<std::string>>) {
    std::fprintf(f, " %zu", v.size());
    for (const std::string& x : v) put(f, x);
  } else if constexpr (std::is_floating_point_v<V>) {
    std::fprintf(f, " %a", v);
  } else if constexpr (std::is_enum_v<V>) {
    std::fprintf(f, " %d", static_cast<int>(v));
  } else {
    std::fprintf(f, " %lld", static_cast<long long>(v));
  }
}

template <class... V>
void put_line(std::FILE* f, const char* kind, const V&... values) {
  std::fputs(kind, f);
  (put(f, values), ...);
  std::fputc('\n', f);
}

// Every field of an event, on one line.
struct event_dumper {
  std::FILE* f;
  void operator()(const rules::trade& e) const {
    put_line(f, "trade", e.symbol, e.price, e.size, e.time, e.id);
  }
  void operator()(const rules::quote& e) const {
    put_line(f, "quote", e.symbol, e.bid, e.ask, e.bid_size, e.ask_size, e.time);
  }
  void operator()(const rules::bar& e) const {
    put_line(f, "bar", e.symbol, e.kind, e.open, e.high, e.low, e.close, e.volume, e.start, e.end);
  }
  void operator()(const rules::news& e) const {
    put_line(f, "news", e.id, e.headline, e.summary, e.url, e.source, e.lang, e.symbols, e.time,
             e.updated);
  }
  void operator()(const rules::trading_status& e) const {
    put_line(f, "status", e.symbol, e.status_code, e.status_message, e.reason_code,
             e.reason_message, e.time);
  }
  void operator()(const rules::luld_band& e) const {
    put_line(f, "luld", e.symbol, e.limit_up, e.limit_down, e.indicator, e.time);
  }
  void operator()(const rules::trade_correction& e) const {
    put_line(f, "correction", e.symbol, e.original_id, e.original_price, e.original_size,
             e.corrected_id, e.corrected_price, e.corrected_size, e.time);
  }
  void operator()(const rules::trade_cancel& e) const {
    put_line(f, "cancel", e.symbol, e.id, e.price, e.size, e.is_error, e.time);
  }
};

void dump_parse(std::FILE* f, const feeds::parse_result& parsed,
                const std::vector<rules::event>& events) {
  std::fprintf(f, "events %zu rejected %zu ignored %zu error %s controls %zu\n", parsed.events,
               parsed.rejected, parsed.ignored, feeds::to_string(parsed.error),
               parsed.controls.size());
  for (const auto& c : parsed.controls) put_line(f, "control", c.what, c.code, c.message);
  for (const auto& e : events) std::visit(event_dumper{f}, e);
}

struct dump_parsers {
  std::vector<feeds::frame_parser> parsers;
  std::vector<rules::event> events;
  dump_parsers() {
    for (std::size_t i = 0; i < feeds::k_dialect_count; ++i) {
      parsers.emplace_back(static_cast<feeds::dialect>(i));
    }
  }
  // Every record of `reader`, its parse result and events.
  void records(std::FILE* f, feeds::capture_reader& reader) {
    feeds::capture_record rec;
    while (reader.next(rec)) {
      events.clear();
      feeds::frame_parser& parser = parsers[static_cast<std::size_t>(rec.feed)];
      const auto parsed =
          rec.padded ? parser.parse_padded(rec.frame, events) : parser.parse(rec.frame, events);
      std::fprintf(f, "record %s:%zu at %lld feed %s padded %d ", std::string(rec.source).c_str(),
                   rec.line, static_cast<long long>(rec.received), feeds::to_string(rec.feed),
                   rec.padded ? 1 : 0);
      dump_parse(f, parsed, events);
    }
    const feeds::capture_stats& st = reader.stats();
    std::fprintf(f, "stats lines %zu frames %zu bad_lines %zu out_of_order %zu\n", st.lines,
                 st.frames, st.bad_lines, st.out_of_order);
  }
};

bool read_whole(const std::string& path, std::string& text) {
  if (feeds::read_capture_file(path, text, nullptr)) return true;
  std::fprintf(stderr, "cannot read %s\n", path.c_str());
  return false;
}

// --dump-events OUT CAPTURE...: the captures merged, as replay merges them.
// --dump-captures OUT FILE...: each file alone, then as two captures (the whole, and its
//     second half) merged, as the capture_reader fuzz target reads its inputs.
// --dump-frames DIALECT OUT FILE...: each file as one frame, through parse() and through
//     parse_padded() with odd bytes after it.
int dump(const std::string& mode, const std::vector<std::string>& args) {
  std::size_t first = 1;
  std::optional<feeds::dialect> which;
  if (mode == "--dump-frames") {
    which = feeds::dialect_from_name(args[0]);
    if (!which || args.size() < 3) {
      std::fprintf(stderr, "usage: replay_bench --dump-frames DIALECT OUT FILE...\n");
      return 64;
    }
    first = 2;
  }
  const std::string& out_path = args[first - 1];
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(out_path.c_str(), "w"), std::fclose);
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", out_path.c_str());
    return 73;
  }
  dump_parsers d;
  if (mode == "--dump-events") {
    feeds::capture_reader reader;
    for (std::size_t i = first; i < args.size(); ++i) {
      std::string text;
      if (!read_whole(args[i], text)) return 66;
      reader.add(args[i], std::move(text));
    }
    d.records(f.get(), reader);
    return 0;
  }
  for (std::size_t i = first; i < args.size(); ++i) {
    std::string text;
    if (!read_whole(args[i], text)) return 66;
    std::fprintf(f.get(), "file %s\n", args[i].c_str());
    if (mode == "--dump-captures") {
      feeds::capture_reader alone;
      alone.add("alone", text);
      d.records(f.get(), alone);
      feeds::capture_reader two;
      two.add("first", text);
      two.add("second", text.substr(text.size() / 2));
      d.records(f.get(), two);
      continue;
    }
    feeds::frame_parser& parser = d.parsers[static_cast<std::size_t>(*which)];
    d.events.clear();
    dump_parse(f.get(), parser.parse(text, d.events), d.events);
    // The same bytes with padding after them that looks like more JSON.
    std::string padded = text + std::string(feeds::k_frame_padding, '}');
    for (std::size_t k = text.size(); k < padded.size(); k += 3) padded[k] = '"';
    d.events.clear();
    dump_parse(f.get(),
               parser.parse_padded(std::string_view(padded).substr(0, text.size()), d.events),
               d.events);
  }
  return 0;
}

// ---- full replay -------------------------------------------------------------------------------

stage_result replay_pass(const daemon::loaded_config& config, const std::string& path,
                         bool parse_thread) {
  daemon::replay_options options;
  options.captures = {path};
  options.parse_thread = parse_thread;
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

// The best of `repeat` runs: by CPU time, or by wall time for the two-thread replay, whose
// point is the wall clock (its CPU time is both threads'). The run's other figure is kept.
template <class F>
stage_result best_of(int repeat, F&& run, bool by_wall = false) {
  stage_result best;
  for (int i = 0; i < repeat; ++i) {
    const double cpu_start = cpu_seconds();
    stage_result r = run();
    r.cpu = cpu_seconds() - cpu_start;
    const double key = by_wall ? r.seconds : r.cpu;
    const double best_key = by_wall ? best.seconds : best.cpu;
    if (best_key == 0 || (key > 0 && key < best_key)) best = r;
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
  std::string capture, config_path = "deploy/config/aftershock.yaml", name, only;
  int repeat = 3;
  std::vector<std::string> positional;
  if (argc >= 4 &&
      (std::string(argv[1]) == "--dump-events" || std::string(argv[1]) == "--dump-captures" ||
       std::string(argv[1]) == "--dump-frames")) {
    return dump(argv[1], std::vector<std::string>(argv + 2, argv + argc));
  }
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--name" && i + 1 < argc) {
      name = argv[++i];
    } else if (a == "--only" && i + 1 < argc &&
               (std::string_view(argv[i + 1]) == "ceiling" ||
                std::string_view(argv[i + 1]) == "parse" ||
                std::string_view(argv[i + 1]) == "replay")) {
      only = argv[++i];
    } else if (!a.empty() && a[0] != '-' && positional.size() < 2) {
      positional.push_back(a);
    } else {
      std::fprintf(stderr, "usage: replay_bench [CONFIG] CAPTURE [--config FILE] [--repeat N] "
                           "[--name LABEL] [--only ceiling|parse|replay]\n");
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
                         "[--name LABEL] [--only ceiling|parse|replay]\n");
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

  if (!only.empty()) {
    // One stage alone, for a profiler (callgrind: instructions per event of that stage).
    const double cpu_start = cpu_seconds();
    stage_result r = only == "ceiling" ? ceiling_pass(capture)
                     : only == "parse" ? parse_pass(capture)
                                       : replay_pass(config, capture, false);
    r.cpu = cpu_seconds() - cpu_start;
    print_stage(only.c_str(), r, r, "alone");
    return 0;
  }
  const stage_result ceiling = best_of(repeat, [&] { return ceiling_pass(capture); });
  const stage_result parse = best_of(repeat, [&] { return parse_pass(capture); });
  const stage_result replay = best_of(repeat, [&] { return replay_pass(config, capture, false); });
  const stage_result threaded =
      best_of(repeat, [&] { return replay_pass(config, capture, true); }, /*by_wall=*/true);
  print_stage("ceiling", ceiling, ceiling, "bare simdjson On-Demand, every field the daemon reads");
  print_stage("parse", parse, ceiling, "capture reader + dialect parsers, no engine");
  print_stage("replay", replay, ceiling,
              "aftershockd replay --threads 1: read, parse, rules engine on one thread");
  std::printf("replay2  %9zu frames %10zu events: wall %6.3f s, %9.0f frames/s, %6.2f M events/s, "
              "%.2f of the ceiling's wall clock | CPU %6.3f s (both threads)  (aftershockd replay: "
              "parse thread + engine thread)\n",
              threaded.frames, threaded.events, threaded.seconds, threaded.fps(),
              threaded.seconds > 0 ? static_cast<double>(threaded.events) / threaded.seconds / 1e6
                                   : 0.0,
              ceiling.fps() > 0 ? threaded.fps() / ceiling.fps() : 0.0, threaded.cpu);
  std::printf("         %zu alerts, %zu rejected frames/elements or bad lines; targets: replay >= "
              "0.5 of the ceiling and >= 2,000,000 frames/s. Rates are per CPU second (ceiling, "
              "parse and replay are single-threaded; the wall clock of a shared machine also "
              "counts other processes' turns), except replay2's, which is wall clock\n",
              replay.alerts, replay.errors);
  if (threaded.alerts != replay.alerts || threaded.events != replay.events) {
    std::fprintf(stderr, "replay_bench: the two-thread replay differs (%zu alerts, %zu events)\n",
                 threaded.alerts, threaded.events);
    return 1;
  }
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  std::printf(
      "BENCH_JSON {\"bench\":\"replay\",\"workload\":\"%s\",\"frames\":%zu,\"events\":%zu,"
      "\"alerts\":%zu,\"ceiling_frames_per_s\":%.0f,\"ceiling_events_per_s\":%.0f,"
      "\"parse_frames_per_s\":%.0f,\"parse_events_per_s\":%.0f,"
      "\"replay_frames_per_s\":%.0f,\"replay_events_per_s\":%.0f,"
      "\"parse_ceiling_ratio\":%.3f,\"replay_ceiling_ratio\":%.3f,"
      "\"wall_ceiling_frames_per_s\":%.0f,\"wall_replay_frames_per_s\":%.0f,"
      "\"wall_replay_ceiling_ratio\":%.3f,\"rates_per\":\"cpu_second\","
      "\"threaded_wall_frames_per_s\":%.0f,\"threaded_wall_events_per_s\":%.0f,"
      "\"threaded_wall_ceiling_ratio\":%.3f,\"threaded_cpu_seconds\":%.4f,"
      "\"simdjson_kernel\":\"%s\",\"parse_kernel\":\"%s\"}\n",
      name.c_str(), replay.frames, replay.events, replay.alerts, ceiling.cpu_fps(),
      ceiling.cpu_eps(), parse.cpu_fps(), parse.cpu_eps(), replay.cpu_fps(), replay.cpu_eps(),
      ratio(parse.cpu_fps(), ceiling.cpu_fps()), ratio(replay.cpu_fps(), ceiling.cpu_fps()),
      ceiling.fps(), replay.fps(), ratio(replay.fps(), ceiling.fps()), threaded.fps(),
      threaded.seconds > 0 ? static_cast<double>(threaded.events) / threaded.seconds : 0.0,
      ratio(threaded.fps(), ceiling.fps()), threaded.cpu,
      simdjson::get_active_implementation()->name().c_str(), feeds::parser_kernel_name());
  return 0;
}
