#include "daemon/outputs.h"

#include <cstdio>
#include <cstdlib>

namespace aftershock::daemon {

std::string outbox_state_dir(const std::string& flag, const exporters::outputs_config& outputs) {
  if (!flag.empty()) return flag;
  if (!outputs.outbox.state_dir.empty()) return outputs.outbox.state_dir;
  if (const char* env = std::getenv("STATE_DIRECTORY"); env && *env) {
    std::string dirs(env);
    return dirs.substr(0, dirs.find(':'));
  }
  return {};
}

std::unique_ptr<exporters::outbox_sink> make_outbox_sink(const exporters::outputs_config& outputs,
                                                         const std::string& state_dir) {
  std::vector<std::string> errors;
  auto sink = exporters::outbox_sink::create(outputs, state_dir, &errors);
  if (!sink) {
    for (const auto& e : errors) std::fprintf(stderr, "outputs: %s\n", e.c_str());
    std::fprintf(stderr, "%zu output problem%s; nothing was delivered\n", errors.size(),
                 errors.size() == 1 ? "" : "s");
  }
  return sink;
}

void print_delivery_summary(const exporters::delivery_snapshot& s, std::size_t undelivered) {
  for (const auto& d : s.destinations) {
    std::fprintf(
        stderr,
        "deliver: %-16s %-12s %5llu alerts in %llu messages, %llu rate limited, %llu "
        "retried, %llu refused, %zu waiting (%s)\n",
        d.name.c_str(), d.type.c_str(), static_cast<unsigned long long>(d.alerts_delivered),
        static_cast<unsigned long long>(d.messages_delivered),
        static_cast<unsigned long long>(d.rate_limited), static_cast<unsigned long long>(d.retries),
        static_cast<unsigned long long>(d.alerts_rejected), d.depth, d.endpoint.c_str());
  }
  const auto& o = s.outbox;
  std::fprintf(stderr,
               "deliver: outbox %s, %llu journaled, %llu duplicates, %llu unrouted, %llu dropped "
               "(full), %llu recovered, %zu deliveries left%s\n",
               o.durable ? "durable" : "memory only", static_cast<unsigned long long>(o.appended),
               static_cast<unsigned long long>(o.duplicates),
               static_cast<unsigned long long>(o.unrouted),
               static_cast<unsigned long long>(o.dropped_overflow[0] + o.dropped_overflow[1] +
                                               o.dropped_overflow[2]),
               static_cast<unsigned long long>(o.recovered), undelivered,
               undelivered ? " (kept in the outbox for the next start)" : "");
}

}  // namespace aftershock::daemon
