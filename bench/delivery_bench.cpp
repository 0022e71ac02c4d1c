// delivery_bench: alerts/s delivered to a loopback HTTP receiver with the durable outbox on
// (journal fsync'd with group commit), and alert-to-delivered latency at a steady rate.
//
//   delivery_bench [--alerts N] [--rate R] [--group G] [--state DIR]
//
// Phase 1 publishes N alerts as fast as possible and times until the receiver has all of them
// (throughput). Phase 2 publishes N alerts paced at R per second and reports latency
// percentiles from publish() to the receiver reading the request. One webhook destination,
// one request in flight, G alerts per request (1: one request per alert, the strict case).
// Targets: >= 2,000 alerts/s and p99 <= 20 ms at 2,000 alerts/s.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <unordered_map>

#include "exporters/outbox_sink.h"
#include "loopback_receiver.h"
#include "test_alerts.h"

namespace {

namespace fs = std::filesystem;
using namespace aftershock;
using clock_type = std::chrono::steady_clock;

struct options {
  std::size_t alerts = 20000;
  double rate = 2000;
  std::size_t group = 1;
  std::string state;
};

std::vector<std::string> split(const std::string& key) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = key.find(',', start);
    out.push_back(key.substr(start, comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::unique_ptr<exporters::outbox_sink> make_sink(const options& o, const std::string& url,
                                                  const std::string& state) {
  exporters::outputs_config c;
  c.grafana_url = "https://grafana.example/d/aftershock?var-symbol={{symbol}}";
  c.outbox.max_alerts = 1'000'000;
  c.outbox.max_bytes = std::size_t{2} << 30;
  exporters::destination_config d;
  d.name = "bench";
  d.type = o.group > 1 ? exporters::destination_type::slack : exporters::destination_type::webhook;
  d.url = url;
  d.rate_per_second = 0;
  d.max_group = o.group;
  c.destinations = {d};
  std::vector<std::string> errors;
  auto sink = exporters::outbox_sink::create(c, state, &errors);
  if (!sink) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    std::exit(1);
  }
  return sink;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

struct phase_result {
  double seconds = 0;
  std::vector<double> latency_ms;
  exporters::delivery_snapshot stats;
};

// Publishes `n` alerts (paced at `rate` per second, or at once when rate is 0) and waits until
// the receiver has every one of them.
phase_result run_phase(const options& o, const std::string& tag, double rate) {
  testing::loopback_receiver rx;
  const std::string state = o.state + "/" + tag;
  fs::remove_all(state);
  auto sink = make_sink(o, rx.url("/hook"), state);
  sink->start();

  std::vector<rules::alert> alerts;
  alerts.reserve(o.alerts);
  for (std::size_t i = 0; i < o.alerts; ++i) {
    alerts.push_back(testing::nvda_alert(tag + "-" + std::to_string(i)));
  }
  std::unordered_map<std::string, clock_type::time_point> published;
  published.reserve(o.alerts);

  const auto start = clock_type::now();
  for (std::size_t i = 0; i < o.alerts; ++i) {
    if (rate > 0) {
      const auto due = start + std::chrono::duration_cast<clock_type::duration>(
                                   std::chrono::duration<double>(static_cast<double>(i) / rate));
      std::this_thread::sleep_until(due);
    }
    published[alerts[i].id] = clock_type::now();
    sink->publish(alerts[i]);
  }
  const bool all = rx.wait_for(
      [&](const auto& requests) {
        std::size_t n = 0;
        for (const auto& r : requests) n += split(r.idempotency_key).size();
        return n >= o.alerts;
      },
      std::chrono::minutes(5));
  phase_result result;
  if (!all) std::fprintf(stderr, "%s: not everything arrived within 5 minutes\n", tag.c_str());
  const auto requests = rx.requests();
  clock_type::time_point last{};
  for (const auto& r : requests) {
    for (const auto& id : split(r.idempotency_key)) {
      auto it = published.find(id);
      if (it == published.end()) continue;
      result.latency_ms.push_back(
          std::chrono::duration<double, std::milli>(r.at - it->second).count());
      last = std::max(last, r.at);
    }
  }
  result.seconds = std::chrono::duration<double>(last - start).count();
  sink->stop(std::chrono::seconds(5));
  result.stats = sink->stats();
  fs::remove_all(state);
  return result;
}

void report(const char* title, phase_result& r, std::size_t alerts) {
  const auto& d = r.stats.destinations.front();
  const auto& j = r.stats.outbox.journal;
  std::printf("%s\n", title);
  std::printf("  delivered      %zu alerts in %llu requests, %.3f s -> %.0f alerts/s\n",
              r.latency_ms.size(), static_cast<unsigned long long>(d.requests), r.seconds,
              r.seconds > 0 ? static_cast<double>(alerts) / r.seconds : 0.0);
  const double p50 = percentile(r.latency_ms, 0.50);
  const double p90 = percentile(r.latency_ms, 0.90);
  const double p99 = percentile(r.latency_ms, 0.99);
  const double max = r.latency_ms.empty() ? 0 : r.latency_ms.back();
  std::printf("  latency (ms)   p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (publish -> receiver)\n",
              p50, p90, p99, max);
  std::printf(
      "  journal        %llu records, %llu fsyncs (%.1f records/fsync), %.1f MiB written, "
      "%llu compactions, durable=%s\n",
      static_cast<unsigned long long>(j.appended), static_cast<unsigned long long>(j.fsyncs),
      j.fsyncs ? static_cast<double>(j.appended) / static_cast<double>(j.fsyncs) : 0.0,
      static_cast<double>(j.bytes_written) / (1 << 20), static_cast<unsigned long long>(j.rewrites),
      r.stats.outbox.durable ? "yes" : "no");
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  o.state =
      (fs::temp_directory_path() / ("aftershock-bench-" + std::to_string(::getpid()))).string();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--alerts")
      o.alerts = std::strtoull(argv[i + 1], nullptr, 10);
    else if (k == "--rate")
      o.rate = std::strtod(argv[i + 1], nullptr);
    else if (k == "--group")
      o.group = std::max<std::size_t>(1, std::strtoull(argv[i + 1], nullptr, 10));
    else if (k == "--state")
      o.state = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: delivery_bench [--alerts N] [--rate R] [--group G] [--state DIR]\n");
      return 64;
    }
  }
  std::printf("delivery_bench: %zu alerts per phase, %zu per request, outbox in %s (fsync on)\n\n",
              o.alerts, o.group, o.state.c_str());
  phase_result burst = run_phase(o, "burst", 0);
  report("phase 1: burst (publish as fast as possible)", burst, o.alerts);
  phase_result paced = run_phase(o, "paced", o.rate);
  char title[128];
  std::snprintf(title, sizeof title, "phase 2: steady %.0f alerts/s", o.rate);
  report(title, paced, o.alerts);
  fs::remove_all(o.state);
  const double throughput = burst.seconds > 0 ? static_cast<double>(o.alerts) / burst.seconds : 0;
  const double p99 = percentile(paced.latency_ms, 0.99);
  const bool ok = throughput >= 2000 && p99 <= 20.0;
  std::printf("\ntargets: >= 2000 alerts/s: %s (%.0f); p99 <= 20 ms at %.0f/s: %s (%.2f ms)\n",
              throughput >= 2000 ? "met" : "MISSED", throughput, o.rate,
              p99 <= 20.0 ? "met" : "MISSED", p99);
  // One machine-readable line for bench/run.
  std::printf("BENCH_JSON {\"bench\":\"delivery\",\"alerts\":%zu,\"group\":%zu,"
              "\"alerts_per_s\":%.0f,\"paced_rate\":%.0f,\"paced_p50_ms\":%.2f,"
              "\"paced_p99_ms\":%.2f}\n",
              o.alerts, o.group, throughput, o.rate, percentile(paced.latency_ms, 0.50), p99);
  return ok ? 0 : 1;
}
