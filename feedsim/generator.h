// Synthetic market days for benchmarks: a capture v1 file of Alpaca-style stock frames of A to
// B events each (mostly trades, some quotes and minute bars; prices random-walk per symbol,
// with a few symbols far busier than the rest, as on a real tape) plus an alpaca-news headline
// every K events. Deterministic: the same options (seed included) give the same bytes on any
// machine, because it uses its own random generator and integer arithmetic for every draw.
// Pure apart from the sink it writes to; thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/time.h"

namespace aftershock::feedsim {

struct generator_options {
  std::uint32_t symbols = 5000;
  std::uint64_t events = 1'000'000;  // market events (trades, quotes, bars), headlines extra
  std::uint32_t per_frame_min = 1;
  std::uint32_t per_frame_max = 10;
  std::uint64_t headline_every = 10'000;  // one alpaca-news headline per K events; 0 = none
  std::uint64_t seed = 1;
  rules::time_ns start = 1'737'988'200 * rules::k_ns_per_s;  // 2025-01-27T14:30:00Z
  rules::time_ns duration = 390 * rules::k_ns_per_min;       // the regular session
  std::uint32_t quote_percent = 15;  // of events
  std::uint32_t bar_percent = 3;     // of events
};

/// Every problem with the options, one message each; empty when they are usable.
std::vector<std::string> validate(const generator_options& o);

/// "A..B" (or "N" for A = B = N) with 1 <= A <= B.
std::optional<std::pair<std::uint32_t, std::uint32_t>> parse_range(std::string_view text);

struct generator_stats {
  std::uint64_t frames = 0;  // capture lines, headlines included
  std::uint64_t events = 0;
  std::uint64_t trades = 0, quotes = 0, bars = 0, headlines = 0;
  std::uint64_t bytes = 0;
};

/// Receives the capture text in chunks of about 1 MiB; false stops the generator.
using chunk_sink = std::function<bool(std::string_view chunk)>;

/// Writes the capture. False if the sink refused a chunk (stats say how far it got). The
/// options must be valid (validate()).
bool generate_capture(const generator_options& options, const chunk_sink& sink,
                      generator_stats& stats);

/// The symbol the generator names `index`: three or more letters ("AAA", "AAB" ...).
std::string synthetic_symbol(std::uint32_t index, std::uint32_t symbol_count);

}  // namespace aftershock::feedsim
