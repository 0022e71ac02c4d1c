// Test helper for outbox_crash_test: publishes a burst of alerts with deterministic ids through
// an outbox_sink with one webhook destination, saying on stdout how far the journal has
// acknowledged ("acked N" after each flush), then waits for delivery and exits.
//   outbox_burst_child STATE_DIR URL COUNT [PACE_US]
// COUNT 0 only recovers and delivers what the journal holds. PACE_US spaces the alerts out so
// that a kill reliably lands in the middle of the burst.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "exporters/outbox_sink.h"
#include "test_alerts.h"

int main(int argc, char** argv) {
  using namespace aftershock;
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: outbox_burst_child STATE_DIR URL COUNT [PACE_US]\n");
    return 64;
  }
  const std::string state = argv[1];
  const int count = std::atoi(argv[3]);
  const int pace_us = argc == 5 ? std::atoi(argv[4]) : 0;
  exporters::outputs_config c;
  exporters::destination_config d;
  d.name = "hook";
  d.type = exporters::destination_type::webhook;
  d.url = argv[2];
  d.rate_per_second = 0;
  d.backoff_initial = 50 * rules::k_ns_per_ms;
  d.backoff_max = 200 * rules::k_ns_per_ms;
  d.timeout = 2 * rules::k_ns_per_s;
  c.destinations = {d};
  std::vector<std::string> errors;
  auto sink = exporters::outbox_sink::create(c, state, &errors);
  if (!sink) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    return 78;
  }
  std::printf("recovered %llu\n", static_cast<unsigned long long>(sink->stats().outbox.recovered));
  std::fflush(stdout);
  sink->start();
  for (int i = 0; i < count; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "burst-%04d", i);
    rules::alert a = testing::nvda_alert(id);
    a.summary = "burst alert " + std::to_string(i);
    sink->publish(a);
    if (pace_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(pace_us));
    if ((i + 1) % 50 == 0) {
      sink->flush();  // from here on these are acknowledged: a crash must not lose them
      std::printf("acked %d\n", i + 1);
      std::fflush(stdout);
    }
  }
  sink->flush();
  std::printf("acked %d\n", count);
  std::fflush(stdout);
  const std::size_t left = sink->stop(std::chrono::seconds(60));
  const auto s = sink->stats();
  std::printf("done left %zu delivered %llu duplicates %llu\n", left,
              static_cast<unsigned long long>(s.destinations.front().alerts_delivered),
              static_cast<unsigned long long>(s.outbox.duplicates));
  std::fflush(stdout);
  return left == 0 ? 0 : 1;
}
