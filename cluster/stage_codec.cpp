#include "cluster/stage_codec.h"

#include "cluster/event_codec.h"
#include "exporters/alert_codec.h"

namespace aftershock::cluster {

namespace {

constexpr std::uint8_t k_stream_event_version = 0x57;  // 'W': watermark, then an event
constexpr std::uint8_t k_stream_tick_version = 0x54;   // 'T': watermark only
constexpr std::uint8_t k_stage_version = 1;
constexpr std::uint8_t k_stage_batch_version = 2;
// Bounds a corrupt count before it allocates.
constexpr std::uint32_t k_max_items = 1u << 20;

using exporters::byte_reader;
using exporters::byte_writer;

}  // namespace

void encode_stream_event(rules::time_ns watermark, const rules::event& e, std::string& out) {
  byte_writer w(out);
  w.u8(k_stream_event_version);
  w.i64(watermark);
  encode_event(e, out);
}

void encode_stream_tick(rules::time_ns watermark, std::string& out) {
  byte_writer w(out);
  w.u8(k_stream_tick_version);
  w.i64(watermark);
}

std::optional<stream_event> decode_stream_event(std::string_view bytes) {
  byte_reader r(bytes);
  const std::uint8_t version = r.u8();
  if (!r.ok() || (version != k_stream_event_version && version != k_stream_tick_version)) {
    return std::nullopt;
  }
  stream_event out;
  out.watermark = r.i64();
  if (!r.ok()) return std::nullopt;
  if (version == k_stream_tick_version) {
    if (!r.done()) return std::nullopt;
    return out;
  }
  std::optional<rules::event> e = decode_event(r.rest());
  if (!e) return std::nullopt;
  out.event = std::move(*e);
  return out;
}

void encode_stage_record(const stage_record& rec, std::string& out) {
  byte_writer w(out);
  w.u8(k_stage_version);
  w.u32(rec.shard);
  w.u64(rec.position);
  w.u64(rec.through);
  w.i64(rec.watermark);
  w.u8(static_cast<std::uint8_t>((rec.progress ? 1 : 0) | (rec.headline ? 2 : 0)));
  std::string scratch;
  if (rec.headline) {
    encode_event(rules::event{*rec.headline}, scratch);
    w.str(scratch);
  }
  w.u32(static_cast<std::uint32_t>(rec.output.candidates.size()));
  for (const rules::alert& a : rec.output.candidates) {
    scratch.clear();
    exporters::encode_alert(a, scratch);
    w.str(scratch);
  }
  w.u32(static_cast<std::uint32_t>(rec.output.moves.size()));
  for (const rules::member_move& m : rec.output.moves) {
    w.str(m.rule);
    w.str(m.symbol);
    w.f64(m.change_pct);
    w.f64(m.price);
    w.i64(m.time);
    w.i64(m.day);
  }
}

std::optional<stage_record> decode_stage_record(std::string_view bytes) {
  byte_reader r(bytes);
  if (r.u8() != k_stage_version || !r.ok()) return std::nullopt;
  stage_record rec;
  rec.shard = r.u32();
  rec.position = r.u64();
  rec.through = r.u64();
  rec.watermark = r.i64();
  const std::uint8_t flags = r.u8();
  if (!r.ok() || flags > 3 || rec.through < rec.position) return std::nullopt;
  rec.progress = (flags & 1) != 0;
  if (flags & 2) {
    const std::string encoded = r.str();
    if (!r.ok()) return std::nullopt;
    std::optional<rules::event> e = decode_event(encoded);
    if (!e || !std::holds_alternative<rules::news>(*e)) return std::nullopt;
    rec.headline = std::move(std::get<rules::news>(*e));
  }
  const std::uint32_t candidates = r.u32();
  if (!r.ok() || candidates > k_max_items) return std::nullopt;
  for (std::uint32_t i = 0; i < candidates; ++i) {
    const std::string encoded = r.str();
    if (!r.ok()) return std::nullopt;
    std::optional<rules::alert> a = exporters::decode_alert(encoded);
    if (!a) return std::nullopt;
    rec.output.candidates.push_back(std::move(*a));
  }
  const std::uint32_t moves = r.u32();
  if (!r.ok() || moves > k_max_items) return std::nullopt;
  for (std::uint32_t i = 0; i < moves; ++i) {
    rules::member_move m;
    m.rule = r.str();
    m.symbol = r.str();
    m.change_pct = r.f64();
    m.price = r.f64();
    m.time = r.i64();
    m.day = r.i64();
    if (!r.ok()) return std::nullopt;
    rec.output.moves.push_back(std::move(m));
  }
  if (!r.ok() || !r.done()) return std::nullopt;
  return rec;
}

void encode_stage_batch(const std::vector<std::string>& encoded_records, std::string& out) {
  byte_writer w(out);
  w.u8(k_stage_batch_version);
  w.u32(static_cast<std::uint32_t>(encoded_records.size()));
  for (const std::string& r : encoded_records) w.str(r);
}

std::optional<std::vector<stage_record>> decode_stage_batch(std::string_view bytes) {
  byte_reader r(bytes);
  if (r.u8() != k_stage_batch_version || !r.ok()) return std::nullopt;
  const std::uint32_t n = r.u32();
  if (!r.ok() || n > k_max_items) return std::nullopt;
  std::vector<stage_record> out;
  out.reserve(n);
  std::uint64_t last = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::string encoded = r.str();
    if (!r.ok()) return std::nullopt;
    std::optional<stage_record> rec = decode_stage_record(encoded);
    // One shard's, in order.
    if (!rec || rec->position <= last || (i > 0 && rec->shard != out.front().shard)) {
      return std::nullopt;
    }
    last = rec->through;
    out.push_back(std::move(*rec));
  }
  if (!r.done()) return std::nullopt;
  return out;
}

}  // namespace aftershock::cluster
