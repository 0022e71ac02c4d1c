// The cluster roles of `aftershockd run --role ...`, each a thread around the JetStream
// transport (cluster/jetstream.h):
//   ingest_role  the live feeds' events, encoded (event_codec.h), onto the events stream in
//                arrival order (one publisher: stream order is the ingest's order);
//   engine_role  its shard's events and every headline (topology.h), in stream order,
//                through a shard-stage rules::engine; what it would alert, and its basket
//                members' moves, go to the stage stream (stage_codec.h), keyed by position so
//                an HA twin's identical copies are dropped by the server;
//   arbiter_role every shard's stage records, merged back into stream order, through an
//                arbiter-stage rules::engine (baskets, storm budgets, resolves, follow-ups);
//                publishes the alerts with the alert id as the de-duplication id;
//   notify_role  the alerts stream's durable consumer, shared by every notifier: alerts into
//                a sink (the durable outbox), acknowledged only after the sink's flush().
// docs/design.md ("Scale-out on NATS JetStream") says how the two stages stay exact.
//
// Thread-safety: start() and stop() from one controlling thread; snapshot() and
// status_line() from any thread. Each role's work runs on its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/jetstream.h"
#include "cluster/topology.h"
#include "exporters/alert_sink.h"
#include "feeds/live_feeds.h"
#include "rules/compiled_rules.h"
#include "rules/engine.h"

namespace aftershock::cluster {

/// A role's counters, copied out for status lines and metrics.
struct role_snapshot {
  std::string role;                 // "ingest", "engine 1/3", "notify"
  std::uint64_t events = 0;         // ingest: published; engine: evaluated
  std::uint64_t skipped = 0;        // arbiter: repeated stage records (twins, restarts)
  std::uint64_t bad = 0;            // undecodable messages (counted, skipped)
  std::uint64_t dropped = 0;        // ingest: events the full queue refused
  std::uint64_t alerts = 0;         // engine: candidates staged; arbiter: alerts stored;
                                    // notify: handed to the sink
  std::uint64_t dedup_hits = 0;     // publishes the stream dropped as duplicates
  std::uint64_t already_known = 0;  // engine: positions the stage stream had at start;
                                    // arbiter: alerts found in the alerts stream at start
  std::uint64_t redeliveries = 0;   // notify: messages delivered more than once
  std::uint64_t publish_failures = 0;
  std::uint64_t lag = 0;              // messages still in the stream after the last one read
  std::uint64_t stream_sequence = 0;  // the last one read (engine, arbiter, notify); ingest:
                                      // messages stored (events, headline copies, ticks)
  std::uint64_t queue_depth = 0;      // ingest: events waiting to be published; arbiter:
                                      // stage records waiting for a slower shard
  std::uint64_t disconnects = 0, reconnects = 0;
  bool caught_up = false;  // engine/notify: the last read had nothing after it
};

std::string status_line(const role_snapshot& s);

class role {
 public:
  virtual ~role() = default;
  virtual void start() = 0;
  /// Stops the work, finishing what is in hand (an engine flushes held-back digests and
  /// publishes them), bounded by `deadline`. Idempotent.
  virtual void stop(std::chrono::milliseconds deadline) = 0;
  virtual role_snapshot snapshot() const = 0;
};

/// Turns a stale feed into the alert the single-process daemon would raise (the daemon's
/// make_feed_stale_alert), given the latest market time the ingest has seen.
using stale_alert_maker =
    std::function<rules::alert(const feeds::stale_notice&, rules::time_ns watermark)>;

std::unique_ptr<role> make_ingest_role(jetstream& js,
                                       std::shared_ptr<const rules::compiled_rules> rules,
                                       std::vector<feeds::session_config> feeds,
                                       feeds::live_options options, stale_alert_maker stale,
                                       std::size_t queue_capacity = 1 << 20);

struct engine_options {
  shard_spec shard;  // its count must equal cluster.shards (the ingest routes by it)
};
std::unique_ptr<role> make_engine_role(jetstream& js,
                                       std::shared_ptr<const rules::compiled_rules> rules,
                                       engine_options options);

/// `flush_on_stop`: whether stop() emits what the engine holds back (storm digests) as `run`
/// does on SIGTERM. Off by default: a twin keeps going, and a digest flushed early would carry
/// the same id as the twin's complete one and win the duplicate window. On for a planned stop
/// of the whole cluster, and in scripts/cluster-test to match replay's end-of-capture flush.
std::unique_ptr<role> make_arbiter_role(jetstream& js,
                                        std::shared_ptr<const rules::compiled_rules> rules,
                                        bool flush_on_stop = false);

std::unique_ptr<role> make_notify_role(jetstream& js, exporters::alert_sink& sink);

}  // namespace aftershock::cluster
