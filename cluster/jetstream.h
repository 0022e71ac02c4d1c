// The NATS JetStream transport of the cluster roles, over the NATS C client (libnats): one
// connection to any of a list of servers (reconnecting forever, buffering publishes meanwhile),
// the streams, publishes with a de-duplication id retried until the server acknowledges,
// an ordered reader (the engines: every event, in stream order, from the first) and a durable
// shared reader with explicit acks (the notifiers).
//
// Thread-safety: a jetstream object and its readers are used from one thread each; the NATS
// library's own threads (reconnects, heartbeats) are internal. Counters are atomics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_config.h"
#include "cluster/topology.h"

struct __natsConnection;
struct __jsCtx;
struct __natsSubscription;
struct __natsMsg;

namespace aftershock::cluster {

/// One received message. Owns the library's message; ack() only on durable readers.
class message {
 public:
  message() = default;
  explicit message(__natsMsg* m);
  message(message&& other) noexcept;
  message& operator=(message&& other) noexcept;
  message(const message&) = delete;
  message& operator=(const message&) = delete;
  ~message();

  std::string_view subject() const;
  std::string_view data() const;
  /// A header's value, empty if absent.
  std::string header(const char* key) const;
  std::uint64_t stream_sequence() const noexcept { return stream_seq_; }
  std::uint64_t pending() const noexcept { return pending_; }       // still in the stream after it
  std::uint64_t deliveries() const noexcept { return delivered_; }  // 1 = first delivery
  /// Acknowledges (durable readers); false if the acknowledgement could not be sent.
  bool ack();

 private:
  __natsMsg* msg_ = nullptr;
  std::uint64_t stream_seq_ = 0, pending_ = 0, delivered_ = 0;
};

/// Counters for metrics and status lines (relaxed atomics, read from any thread).
struct transport_stats {
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> duplicates{0};  // publishes the server dropped as duplicates
  std::atomic<std::uint64_t> publish_retries{0};
  std::atomic<std::uint64_t> publish_failures{0};  // gave up at the deadline
  std::atomic<std::uint64_t> disconnects{0};
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> async_errors{0};  // slow consumer, missed heartbeats ...
};

class ordered_reader;
class durable_reader;

class jetstream {
 public:
  /// Connects to any server of `config`, retrying until `deadline`; nullptr and `error`
  /// when none answered. `name` labels the connection in the servers' monitoring.
  static std::unique_ptr<jetstream> connect(const cluster_config& config, const std::string& name,
                                            std::chrono::milliseconds deadline, std::string* error);
  ~jetstream();
  jetstream(const jetstream&) = delete;
  jetstream& operator=(const jetstream&) = delete;

  /// Creates the events and alerts streams if missing (the first process to start does it;
  /// an existing stream is kept as it is). Retries until `deadline` while the cluster forms.
  bool ensure_streams(std::chrono::milliseconds deadline, std::string* error);

  enum class publish_result { stored, duplicate, failed };
  /// Publishes and waits for the stream's acknowledgement, retrying with the same `msg_id`
  /// (so a retry after a lost acknowledgement is dropped as a duplicate) until `deadline`.
  publish_result publish(const std::string& subject, std::string_view data,
                         const std::string& msg_id, std::chrono::milliseconds deadline);

  /// One message of publish_ordered().
  struct outgoing {
    std::string subject;
    std::string data;
    std::string msg_id;
  };
  /// Publishes `batch` in order, pipelined (no round trip per message), without ever letting a
  /// message overtake one before it: each carries the previous one's id as the stream's
  /// expected last id (Nats-Expected-Last-Msg-Id), so when one is lost (a server died) every
  /// later one is refused rather than stored out of order. `last_id` is the id the stream
  /// ended with (empty: no expectation); it is advanced. Returns how many messages from the
  /// front are stored (duplicates included); the caller sends the rest again, same ids.
  std::size_t publish_ordered(const std::vector<outgoing>& batch, std::string& last_id,
                              std::chrono::milliseconds deadline);

  /// Every message of `stream` from the first (or `from_sequence`), in order, on `filter`
  /// (empty: all of the stream's subjects); survives server failures by re-creating its
  /// ephemeral consumer where it left off.
  std::unique_ptr<ordered_reader> read_ordered(const std::string& stream,
                                               std::uint64_t from_sequence, std::string* error,
                                               const std::string& filter = {});
  /// The data of the last message on `subject` in `stream`; nullopt if none (or unreachable).
  std::optional<std::string> last_message_data(const std::string& stream,
                                               const std::string& subject);
  /// The durable consumer `durable` on `stream` (created if missing: explicit acks, redelivery
  /// after ack_wait, replicated like the stream). Several processes share its messages.
  std::unique_ptr<durable_reader> read_durable(const std::string& stream,
                                               const std::string& subject,
                                               const std::string& durable, std::string* error);

  /// Messages in `stream` now (0 if unknown).
  std::uint64_t stream_messages(const std::string& stream);
  /// The durable consumer's messages not yet delivered, and delivered but not acknowledged.
  bool consumer_lag(const std::string& stream, const std::string& durable, std::uint64_t& pending,
                    std::uint64_t& ack_pending);
  /// "nats://127.0.0.1:4222" while connected, else empty.
  std::string connected_url() const;

  const transport_stats& stats() const noexcept { return *stats_; }
  struct async_results;  // internal: publish_ordered()'s outcomes, written by the library
  const cluster_config& config() const noexcept { return config_; }

 private:
  explicit jetstream(cluster_config config);
  cluster_config config_;
  __natsConnection* conn_ = nullptr;
  __jsCtx* js_ = nullptr;
  __jsCtx* async_js_ = nullptr;  // publish_ordered()'s context, with its acknowledgement handler
  std::unique_ptr<async_results> async_;
  std::unique_ptr<transport_stats> stats_;
  friend class ordered_reader;
  friend class durable_reader;
};

class ordered_reader {
 public:
  ~ordered_reader();
  /// The next message, or nullopt after `timeout` with none.
  std::optional<message> next(std::chrono::milliseconds timeout);

 private:
  friend class jetstream;
  ordered_reader() = default;
  __natsSubscription* sub_ = nullptr;
};

class durable_reader {
 public:
  ~durable_reader();
  /// Up to `batch` messages, waiting at most `timeout` for the first.
  std::vector<message> fetch(int batch, std::chrono::milliseconds timeout);

 private:
  friend class jetstream;
  durable_reader() = default;
  __natsSubscription* sub_ = nullptr;
};

}  // namespace aftershock::cluster
