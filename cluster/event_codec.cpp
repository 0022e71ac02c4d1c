#include "cluster/event_codec.h"

#include <type_traits>

#include "exporters/alert_codec.h"

namespace aftershock::cluster {

namespace {

constexpr std::uint8_t k_version = 1;
// The tag is the variant index: adding an event type at the end keeps old tags valid.
constexpr std::uint8_t k_max_tag = std::variant_size_v<rules::event> - 1;
// Bounds a corrupt count before it allocates.
constexpr std::uint32_t k_max_symbols = 1u << 16;

using exporters::byte_reader;
using exporters::byte_writer;

void write(byte_writer& w, const rules::trade& t) {
  w.str(t.symbol);
  w.f64(t.price);
  w.f64(t.size);
  w.i64(t.time);
  w.i64(t.id);
}
void read(byte_reader& r, rules::trade& t) {
  t.symbol = r.str();
  t.price = r.f64();
  t.size = r.f64();
  t.time = r.i64();
  t.id = r.i64();
}

void write(byte_writer& w, const rules::quote& q) {
  w.str(q.symbol);
  w.f64(q.bid);
  w.f64(q.ask);
  w.f64(q.bid_size);
  w.f64(q.ask_size);
  w.i64(q.time);
}
void read(byte_reader& r, rules::quote& q) {
  q.symbol = r.str();
  q.bid = r.f64();
  q.ask = r.f64();
  q.bid_size = r.f64();
  q.ask_size = r.f64();
  q.time = r.i64();
}

void write(byte_writer& w, const rules::bar& b) {
  w.str(b.symbol);
  w.u8(static_cast<std::uint8_t>(b.kind));
  w.f64(b.open);
  w.f64(b.high);
  w.f64(b.low);
  w.f64(b.close);
  w.f64(b.volume);
  w.i64(b.start);
  w.i64(b.end);
}
bool read(byte_reader& r, rules::bar& b) {
  b.symbol = r.str();
  const std::uint8_t kind = r.u8();
  if (kind > static_cast<std::uint8_t>(rules::bar_kind::second)) return false;
  b.kind = static_cast<rules::bar_kind>(kind);
  b.open = r.f64();
  b.high = r.f64();
  b.low = r.f64();
  b.close = r.f64();
  b.volume = r.f64();
  b.start = r.i64();
  b.end = r.i64();
  return true;
}

void write(byte_writer& w, const rules::news& n) {
  w.str(n.id);
  w.str(n.headline);
  w.str(n.summary);
  w.str(n.url);
  w.str(n.source);
  w.str(n.lang);
  w.u32(static_cast<std::uint32_t>(n.symbols.size()));
  for (const auto& s : n.symbols) w.str(s);
  w.i64(n.time);
  w.i64(n.updated);
}
bool read(byte_reader& r, rules::news& n) {
  n.id = r.str();
  n.headline = r.str();
  n.summary = r.str();
  n.url = r.str();
  n.source = r.str();
  n.lang = r.str();
  const std::uint32_t count = r.u32();
  if (count > k_max_symbols) return false;
  for (std::uint32_t i = 0; i < count && r.ok(); ++i) n.symbols.push_back(r.str());
  n.time = r.i64();
  n.updated = r.i64();
  return true;
}

void write(byte_writer& w, const rules::trading_status& s) {
  w.str(s.symbol);
  w.str(s.status_code);
  w.str(s.status_message);
  w.str(s.reason_code);
  w.str(s.reason_message);
  w.i64(s.time);
}
void read(byte_reader& r, rules::trading_status& s) {
  s.symbol = r.str();
  s.status_code = r.str();
  s.status_message = r.str();
  s.reason_code = r.str();
  s.reason_message = r.str();
  s.time = r.i64();
}

void write(byte_writer& w, const rules::luld_band& l) {
  w.str(l.symbol);
  w.f64(l.limit_up);
  w.f64(l.limit_down);
  w.str(l.indicator);
  w.i64(l.time);
}
void read(byte_reader& r, rules::luld_band& l) {
  l.symbol = r.str();
  l.limit_up = r.f64();
  l.limit_down = r.f64();
  l.indicator = r.str();
  l.time = r.i64();
}

void write(byte_writer& w, const rules::trade_correction& c) {
  w.str(c.symbol);
  w.i64(c.original_id);
  w.f64(c.original_price);
  w.f64(c.original_size);
  w.i64(c.corrected_id);
  w.f64(c.corrected_price);
  w.f64(c.corrected_size);
  w.i64(c.time);
}
void read(byte_reader& r, rules::trade_correction& c) {
  c.symbol = r.str();
  c.original_id = r.i64();
  c.original_price = r.f64();
  c.original_size = r.f64();
  c.corrected_id = r.i64();
  c.corrected_price = r.f64();
  c.corrected_size = r.f64();
  c.time = r.i64();
}

void write(byte_writer& w, const rules::trade_cancel& c) {
  w.str(c.symbol);
  w.i64(c.id);
  w.f64(c.price);
  w.f64(c.size);
  w.u8(c.is_error ? 1 : 0);
  w.i64(c.time);
}
bool read(byte_reader& r, rules::trade_cancel& c) {
  c.symbol = r.str();
  c.id = r.i64();
  c.price = r.f64();
  c.size = r.f64();
  const std::uint8_t flag = r.u8();
  if (flag > 1) return false;
  c.is_error = flag == 1;
  c.time = r.i64();
  return true;
}

// Uniform call for the readers that cannot reject a value on their own.
template <typename T>
bool read_checked(byte_reader& r, T& value) {
  if constexpr (std::is_same_v<decltype(read(r, value)), bool>) {
    return read(r, value);
  } else {
    read(r, value);
    return true;
  }
}

template <std::size_t I>
bool read_alternative(byte_reader& r, std::uint8_t tag, rules::event& out) {
  if constexpr (I < std::variant_size_v<rules::event>) {
    if (tag == I) {
      std::variant_alternative_t<I, rules::event> value;
      if (!read_checked(r, value)) return false;
      out = std::move(value);
      return true;
    }
    return read_alternative<I + 1>(r, tag, out);
  } else {
    return false;
  }
}

}  // namespace

void encode_event(const rules::event& e, std::string& out) {
  byte_writer w(out);
  w.u8(k_version);
  w.u8(static_cast<std::uint8_t>(e.index()));
  std::visit([&](const auto& value) { write(w, value); }, e);
}

std::optional<rules::event> decode_event(std::string_view bytes) {
  byte_reader r(bytes);
  if (r.u8() != k_version || !r.ok()) return std::nullopt;
  const std::uint8_t tag = r.u8();
  if (!r.ok() || tag > k_max_tag) return std::nullopt;
  rules::event e;
  if (!read_alternative<0>(r, tag, e)) return std::nullopt;
  if (!r.ok() || !r.done()) return std::nullopt;
  return e;
}

}  // namespace aftershock::cluster
