// Wire forms of the two-stage engine (rules::engine_stage, docs/design.md "Two-stage engine"):
//   - a stream event: an event as the ingest publishes it, with the stream's watermark (the
//     latest market time of every event up to it, across all shards), which only the ingest
//     knows and the arbiter needs; or a tick, copied to every shard, at which each shard
//     reports how far it has read;
//   - a stage record: what one shard says about one position of the events stream (its
//     candidates and basket moves, the headline it read there), or that it has read everything
//     up to a position (progress), for the arbiter.
// Versioned binary, checked lengths, never reads past the input. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/engine.h"
#include "rules/event.h"

namespace aftershock::cluster {

struct stream_event {
  rules::time_ns watermark = 0;
  std::optional<rules::event> event;  // none: a tick (the ingest's "read up to here" mark)
};

void encode_stream_event(rules::time_ns watermark, const rules::event& e, std::string& out);
void encode_stream_tick(rules::time_ns watermark, std::string& out);
std::optional<stream_event> decode_stream_event(std::string_view bytes);

struct stage_record {
  std::uint32_t shard = 0;
  std::uint64_t position = 0;    // the event's sequence in the events stream
  // The shard has read everything of the events stream up to here (>= position): past a
  // headline copy or a tick, the rest of that run of copies belongs to the other shards.
  std::uint64_t through = 0;
  rules::time_ns watermark = 0;  // the stream's watermark at that position
  // Nothing to say about this position: the shard has read everything up to it.
  bool progress = false;
  std::optional<rules::news> headline;  // the position is a headline (every shard hands it on)
  rules::stage_output output;
};

void encode_stage_record(const stage_record& r, std::string& out);
std::optional<stage_record> decode_stage_record(std::string_view bytes);

/// A stage message: one shard's records for consecutive positions of its share, oldest first
/// (one acknowledged publish per batch keeps them in order at a useful rate).
void encode_stage_batch(const std::vector<std::string>& encoded_records, std::string& out);
std::optional<std::vector<stage_record>> decode_stage_batch(std::string_view bytes);

}  // namespace aftershock::cluster
