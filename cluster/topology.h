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

/// Subject prefixes. Market events go to `aftershock.events.<exchange>.<symbol>`, headlines to
/// `aftershock.events.news.<source>` (every engine reads them; MICs are upper case, so "news"
/// is no exchange). One events stream holds both, so one consumer (whose single filter subject
/// is `aftershock.events.>`) sees them in the ingest's order. Alerts go to
/// `aftershock.alerts.<shard>` (`aftershock.alerts.ingest` for feed_stale).
inline constexpr std::string_view k_events_prefix = "aftershock.events.";
inline constexpr std::string_view k_news_prefix = "aftershock.events.news.";
inline constexpr std::string_view k_alerts_prefix = "aftershock.alerts.";
inline constexpr std::string_view k_events_subject_filter = "aftershock.events.>";
inline constexpr std::string_view k_alerts_subject_filter = "aftershock.alerts.>";

/// A NATS subject token for arbitrary text: '.', '*', '>', '%', whitespace and control bytes
/// become %XX (so "SU.PA" is "SU%2EPA"), everything else is kept; empty text is "_".
std::string subject_token(std::string_view text);

/// The subject an event is published on: its exchange (MIC) and symbol, or its news source.
std::string event_subject(const rules::event& e, std::string_view exchange);

/// 64-bit FNV-1a (the hash behind rules::stable_hash_hex).
std::uint64_t fnv1a64(std::string_view text) noexcept;

/// Engine shard `index` of `count`.
struct shard_spec {
  std::uint32_t index = 0;
  std::uint32_t count = 1;

  /// Whether this shard owns `symbol`: fnv1a64(symbol) mod count == index.
  bool owns(std::string_view symbol) const noexcept;
  /// Whether this shard publishes `a`: the shard of its symbol, or for alerts about no single
  /// symbol (baskets, digests, feed_stale) the shard of its rule name.
  bool owns(const rules::alert& a) const noexcept;
  std::string to_string() const;
};

/// Parses "I/N" (0 <= I < N <= 4096); nullopt (and `why`) otherwise.
std::optional<shard_spec> parse_shard(std::string_view text, std::string* why = nullptr);

}  // namespace aftershock::cluster
