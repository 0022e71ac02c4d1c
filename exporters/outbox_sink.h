// The alert sink in front of every configured destination: publish() routes the alert and
// journals it in the durable outbox (never waiting for the network or the disk), and a
// delivery thread takes it to Slack, Discord, Teams, Telegram, Alertmanager, webhooks, files
// and the console. Undelivered alerts survive crashes and restarts.
//
// Use: create() from the `outputs:` config and a state directory, start(), publish() from the
// engine's thread, flush() when a durable point is needed, stop(deadline) on shutdown. stats()
// may be called from any thread (metrics). publish()/flush() are meant for one thread (the
// engine's) but are safe from several.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exporters/alert_sink.h"
#include "exporters/delivery_service.h"
#include "exporters/delivery_stats.h"
#include "exporters/outbox.h"
#include "exporters/outputs_config.h"

namespace aftershock::exporters {

class outbox_sink final : public alert_sink {
 public:
  /// Resolves secrets, opens (and recovers) the outbox in `state_dir` (empty: memory only, no
  /// durability) and prepares the destinations. Returns nullptr with every problem in `errors`.
  static std::unique_ptr<outbox_sink> create(const outputs_config& config,
                                             const std::string& state_dir,
                                             std::vector<std::string>* errors);
  ~outbox_sink() override;

  /// Starts delivering (including alerts recovered from the journal).
  void start();
  /// Routes and journals one alert; delivery begins once it is synced.
  void publish(const rules::alert& a) override;
  /// Sends `a` to one destination only, ignoring routes (test-notify). False if no such
  /// destination or the alert was not queued.
  bool publish_to(const rules::alert& a, std::string_view destination);
  /// Blocks until everything published so far is durable (not delivered).
  void flush() override;
  /// Waits until every alert is delivered or `deadline` passes, then stops delivery and syncs
  /// the journal. Returns how many alerts were still undelivered (they are retried on the next
  /// start). Idempotent.
  std::size_t stop(std::chrono::steady_clock::duration deadline);

  delivery_snapshot stats() const;
  const std::vector<destination_runtime>& destinations() const noexcept { return destinations_; }

 private:
  outbox_sink() = default;

  outputs_config config_;
  std::vector<destination_runtime> destinations_;
  std::unique_ptr<outbox> box_;
  std::unique_ptr<delivery_service> service_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace aftershock::exporters
