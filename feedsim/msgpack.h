// MessagePack for Alpaca's binary mode (feeds.md §1.2): a client whose handshake carries
// `Content-Type: application/msgpack` gets binary frames with the same keys as the JSON ones,
// `t` as a timestamp extension (type -1) and prices as float64, and sends its requests in
// msgpack too. Written here rather than taken from a library because Debian's msgpack-cxx
// cannot be installed next to Boost 1.81, and the subset Alpaca uses is small.
//
// msgpack_writer and the free functions are pure; a json_to_msgpack object reuses a JSON parser
// and so belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "feedsim/json_value.h"
#include "rules/time.h"

namespace aftershock::feedsim {

/// Appends msgpack items to a string, always in the smallest encoding the spec allows.
class msgpack_writer {
 public:
  explicit msgpack_writer(std::string& out) : out_(out) {}

  void nil();
  void boolean(bool b);
  void integer(std::int64_t i);
  void unsigned_integer(std::uint64_t u);
  void float64(double d);
  void string(std::string_view s);
  void binary(std::string_view b);
  void array_header(std::uint32_t count);
  void map_header(std::uint32_t count);
  /// Timestamp extension (type -1): the 32-, 64- or 96-bit form, whichever is the smallest
  /// that holds the value. `t` is nanoseconds since the epoch (negative before 1970).
  void timestamp(rules::time_ns t);

 private:
  void put(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void put_be(std::uint64_t v, int bytes);
  std::string& out_;
};

/// The byte that starts a msgpack array header for `count` items, plus its length bytes.
std::string msgpack_array_header(std::uint32_t count);

/// How JSON data is re-encoded for an Alpaca msgpack client.
struct msgpack_options {
  bool times_as_timestamps = true;  // a "t" key with an RFC 3339 string -> timestamp extension
  bool prices_as_float = true;      // price keys (p, bp, ap, o, h, l, c, vw, u, d, op, cp) as
                                    // float64 even when the JSON wrote "100" (Go's encoder does)
};

/// Re-encodes JSON text as msgpack. Holds a reusable parser: one instance per thread.
class json_to_msgpack {
 public:
  explicit json_to_msgpack(msgpack_options options = {});
  ~json_to_msgpack();
  json_to_msgpack(json_to_msgpack&&) noexcept;
  json_to_msgpack& operator=(json_to_msgpack&&) noexcept;

  /// Appends the msgpack form of one JSON document to `out`. False (out unchanged, reason in
  /// `error`) when the text is not valid JSON.
  bool encode(std::string_view json, std::string& out, std::string* error = nullptr);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Decodes exactly one msgpack item (trailing bytes are an error) into the request model.
/// Timestamps become RFC 3339 strings with nine fractional digits; binary becomes a string.
/// nullopt with a reason on truncated, malformed, too deep (k_max_value_depth) input or a map
/// key that is not a string.
std::optional<json_value> decode_msgpack(std::string_view bytes, std::string* error = nullptr);

/// "2025-01-27T14:30:00.123456789Z": always nine fractional digits.
std::string format_rfc3339_ns(rules::time_ns t);

}  // namespace aftershock::feedsim
