#include "exporters/alert_codec.h"

#include <cstring>

namespace aftershock::exporters {

namespace {

constexpr std::uint8_t k_version = 1;
constexpr std::uint32_t k_max_items = 1u << 16;  // symbols, headlines, facts per alert

}  // namespace

void byte_writer::f64(double v) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  u64(bits);
}

double byte_reader::f64() {
  const std::uint64_t bits = u64();
  double v = 0;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

std::uint64_t byte_reader::get(int n) {
  if (!ok_ || in_.size() - pos_ < static_cast<std::size_t>(n)) {
    ok_ = false;
    return 0;
  }
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
  }
  pos_ += static_cast<std::size_t>(n);
  return v;
}

std::string byte_reader::str() {
  const std::uint32_t n = u32();
  if (!ok_ || in_.size() - pos_ < n) {
    ok_ = false;
    return {};
  }
  std::string s(in_.substr(pos_, n));
  pos_ += n;
  return s;
}

void encode_alert(const rules::alert& a, std::string& out) {
  byte_writer w(out);
  w.u8(k_version);
  w.str(a.id);
  w.str(a.fingerprint);
  w.u8(static_cast<std::uint8_t>(a.status));
  w.str(a.kind);
  w.str(a.rule);
  w.u8(static_cast<std::uint8_t>(a.level));
  w.str(a.symbol);
  w.str(a.name);
  w.str(a.exchange);
  w.str(a.time_zone);
  w.u32(static_cast<std::uint32_t>(a.utc_offset_s));
  w.u32(static_cast<std::uint32_t>(a.symbols.size()));
  for (const auto& s : a.symbols) w.str(s);
  w.u8(a.change_pct ? 1 : 0);
  w.f64(a.change_pct.value_or(0));
  w.str(a.direction);
  w.f64(a.price);
  w.u8(a.base ? 1 : 0);
  if (a.base) {
    w.str(a.base->kind);
    w.f64(a.base->price);
    w.i64(a.base->time);
    w.str(a.base->description);
  }
  w.i64(a.window);
  w.f64(a.threshold_pct);
  w.i64(a.event_time);
  w.u32(static_cast<std::uint32_t>(a.headlines.size()));
  for (const auto& c : a.headlines) {
    w.str(c.id);
    w.str(c.headline);
    w.str(c.source);
    w.str(c.url);
    w.i64(c.published);
    w.u8(static_cast<std::uint8_t>(c.how));
    w.str(c.matched);
    w.u64(c.position);
    w.str(c.theme);
  }
  w.str(a.follow_up_of);
  w.u32(static_cast<std::uint32_t>(a.facts.size()));
  for (const auto& [k, v] : a.facts) {
    w.str(k);
    w.f64(v);
  }
  w.str(a.summary);
}

std::optional<rules::alert> decode_alert(std::string_view bytes) {
  byte_reader r(bytes);
  if (r.u8() != k_version) return std::nullopt;
  rules::alert a;
  a.id = r.str();
  a.fingerprint = r.str();
  const std::uint8_t status = r.u8();
  if (status > 1) return std::nullopt;
  a.status = static_cast<rules::alert_status>(status);
  a.kind = r.str();
  a.rule = r.str();
  const std::uint8_t level = r.u8();
  if (level > 2) return std::nullopt;
  a.level = static_cast<rules::severity>(level);
  a.symbol = r.str();
  a.name = r.str();
  a.exchange = r.str();
  a.time_zone = r.str();
  a.utc_offset_s = static_cast<std::int32_t>(r.u32());
  const std::uint32_t nsym = r.u32();
  if (nsym > k_max_items) return std::nullopt;
  for (std::uint32_t i = 0; i < nsym && r.ok(); ++i) a.symbols.push_back(r.str());
  const bool has_change = r.u8() != 0;
  const double change = r.f64();
  if (has_change) a.change_pct = change;
  a.direction = r.str();
  a.price = r.f64();
  if (r.u8() != 0) {
    rules::baseline b;
    b.kind = r.str();
    b.price = r.f64();
    b.time = r.i64();
    b.description = r.str();
    a.base = std::move(b);
  }
  a.window = r.i64();
  a.threshold_pct = r.f64();
  a.event_time = r.i64();
  const std::uint32_t nh = r.u32();
  if (nh > k_max_items) return std::nullopt;
  for (std::uint32_t i = 0; i < nh && r.ok(); ++i) {
    rules::citation c;
    c.id = r.str();
    c.headline = r.str();
    c.source = r.str();
    c.url = r.str();
    c.published = r.i64();
    const std::uint8_t how = r.u8();
    if (how > 2) return std::nullopt;
    c.how = static_cast<rules::link_kind>(how);
    c.matched = r.str();
    c.position = static_cast<std::size_t>(r.u64());
    c.theme = r.str();
    a.headlines.push_back(std::move(c));
  }
  a.follow_up_of = r.str();
  const std::uint32_t nf = r.u32();
  if (nf > k_max_items) return std::nullopt;
  for (std::uint32_t i = 0; i < nf && r.ok(); ++i) {
    std::string k = r.str();
    const double v = r.f64();
    a.facts.emplace_back(std::move(k), v);
  }
  a.summary = r.str();
  if (!r.ok() || !r.done()) return std::nullopt;
  return a;
}

}  // namespace aftershock::exporters
