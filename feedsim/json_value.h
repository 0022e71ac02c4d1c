// A small document model for what clients send the simulator (auth, subscribe, SUBSCRIBE ...):
// the same tree whether the message came as JSON text or as Alpaca MessagePack, so the vendor
// protocols are written once. Requests are small, so clarity wins over speed here; data frames
// never go through this type. Plain values; safe to copy and to move between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aftershock::feedsim {

struct json_value {
  enum class kind : std::uint8_t { null, boolean, integer, number, string, array, object };

  kind type = kind::null;
  bool boolean = false;
  std::int64_t integer = 0;  // also set (truncated) for numbers that fit
  double number = 0;         // also set for integers
  std::string string;
  std::vector<json_value> items;                          // array
  std::vector<std::pair<std::string, json_value>> fields;  // object, in the order received

  bool is_null() const noexcept { return type == kind::null; }
  bool is_string() const noexcept { return type == kind::string; }
  bool is_array() const noexcept { return type == kind::array; }
  bool is_object() const noexcept { return type == kind::object; }
  bool is_integer() const noexcept { return type == kind::integer; }

  /// The first field with this key, or nullptr (also for non-objects).
  const json_value* find(std::string_view key) const noexcept;
  /// The field's string, or nullopt when absent or not a string.
  std::optional<std::string_view> string_field(std::string_view key) const noexcept;

  static json_value make_string(std::string s);
  static json_value make_integer(std::int64_t i);
  static json_value make_array(std::vector<json_value> items);
};

/// Nesting deeper than this is refused (a request is never deep; a hostile one might be).
inline constexpr int k_max_value_depth = 32;

/// Parses JSON text into a value; nullopt (with a reason when `error` is given) for anything
/// that is not exactly one valid JSON document.
std::optional<json_value> parse_json(std::string_view text, std::string* error = nullptr);

/// Serialises compactly, escaping strings as JSON requires (UTF-8 passes through).
std::string to_json(const json_value& v);

/// Appends `s` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);

}  // namespace aftershock::feedsim
