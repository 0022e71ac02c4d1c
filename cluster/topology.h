// Where things live in a cluster: the subject of each event, which engine shard owns a symbol
// (a stable FNV-1a hash, the same on every host and release), and the "I/N" shard syntax of
// `aftershockd run --role engine --shard I/N`. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rules/alert.h"
#include "rules/event.h"

namespace aftershock::cluster {

/// Subjects. A market event goes to its shard's subject
/// `aftershock.events.<shard>.<exchange>.<symbol>`; a headline goes to every shard, as
/// `aftershock.events.<shard>.news.<source>` (MICs are upper case, so "news" is no exchange),
/// the copies one after another. So each shard's one consumer (nats-server 2.9 allows one
/// filter subject, `aftershock.events.<shard>.>`) sees its events and every headline in the
/// ingest's order, and the stream sequence orders all shards' events. Shards tell the arbiter
/// what they saw on `aftershock.stage.<shard>`; alerts go to `aftershock.alerts.arbiter`
/// (`aftershock.alerts.ingest` for feed_stale).
inline constexpr std::string_view k_events_prefix = "aftershock.events.";
inline constexpr std::string_view k_stage_prefix = "aftershock.stage.";
inline constexpr std::string_view k_alerts_prefix = "aftershock.alerts.";
inline constexpr std::string_view k_events_subject_filter = "aftershock.events.>";
inline constexpr std::string_view k_stage_subject_filter = "aftershock.stage.>";
inline constexpr std::string_view k_alerts_subject_filter = "aftershock.alerts.>";

/// A NATS subject token for arbitrary text: '.', '*', '>', '%', whitespace and control bytes
/// become %XX (so "SU.PA" is "SU%2EPA"), everything else is kept; empty text is "_".
std::string subject_token(std::string_view text);

/// The subject an event is published on for `shard`: its exchange (MIC) and symbol, or its
/// news source.
std::string event_subject(const rules::event& e, std::string_view exchange, std::uint32_t shard);
/// The filter subject of shard `shard`'s consumer: its events and every headline.
std::string shard_events_filter(std::uint32_t shard);
/// Where shard `shard` publishes its stage records (cluster/stage_codec.h).
std::string stage_subject(std::uint32_t shard);
/// The ingest's ticks for shard `shard` (cluster/stage_codec.h, encode_stream_tick).
std::string tick_subject(std::uint32_t shard);

/// 64-bit FNV-1a (the hash behind rules::stable_hash_hex).
std::uint64_t fnv1a64(std::string_view text) noexcept;

/// Engine shard `index` of `count`.
struct shard_spec {
  std::uint32_t index = 0;
  std::uint32_t count = 1;

  /// Whether this shard owns `symbol`: shard_of(symbol) == index.
  bool owns(std::string_view symbol) const noexcept;
  /// The shard of `symbol` among `count`: fnv1a64(symbol) mod count.
  std::uint32_t shard_of(std::string_view symbol) const noexcept;
  /// Whether this shard publishes `a`: the shard of its symbol, or for alerts about no single
  /// symbol (baskets, digests, feed_stale) the shard of its rule name.
  bool owns(const rules::alert& a) const noexcept;
  std::string to_string() const;
};

/// Parses "I/N" (0 <= I < N <= 4096); nullopt (and `why`) otherwise.
std::optional<shard_spec> parse_shard(std::string_view text, std::string* why = nullptr);

}  // namespace aftershock::cluster
