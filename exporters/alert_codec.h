// A compact, versioned binary form of rules::alert for the outbox journal, so undelivered
// alerts survive a restart exactly as the engine made them. Decoding checks every length and
// never reads past the input. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rules/alert.h"

namespace aftershock::exporters {

/// Appends the encoding of `a` to `out`.
void encode_alert(const rules::alert& a, std::string& out);

/// Decodes what encode_alert wrote; nullopt for anything truncated, corrupt or of an unknown
/// version.
std::optional<rules::alert> decode_alert(std::string_view bytes);

/// Little-endian primitives shared with the outbox's record format.
class byte_writer {
 public:
  explicit byte_writer(std::string& out) : out_(out) {}
  void u8(std::uint8_t v) { out_ += static_cast<char>(v); }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void i64(std::int64_t v) { put(static_cast<std::uint64_t>(v), 8); }
  void f64(double v);
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_ += s;
  }

 private:
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xFF);
  }
  std::string& out_;
};

/// Reads what byte_writer wrote; after any short read ok() is false and values are zero.
class byte_reader {
 public:
  explicit byte_reader(std::string_view in) : in_(in) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(get(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(get(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
  std::uint64_t u64() { return get(8); }
  std::int64_t i64() { return static_cast<std::int64_t>(get(8)); }
  double f64();
  std::string str();
  std::string_view rest() const { return in_.substr(pos_); }
  bool ok() const noexcept { return ok_; }
  bool done() const noexcept { return pos_ == in_.size(); }

 private:
  std::uint64_t get(int n);
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace aftershock::exporters
