#include "feedsim/msgpack.h"

#include <simdjson.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <limits>

namespace aftershock::feedsim {

// ---- writer -------------------------------------------------------------------------------------

void msgpack_writer::put_be(std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) put(static_cast<std::uint8_t>(v >> (8 * i)));
}

void msgpack_writer::nil() { put(0xc0); }

void msgpack_writer::boolean(bool b) { put(b ? 0xc3 : 0xc2); }

void msgpack_writer::unsigned_integer(std::uint64_t u) {
  if (u <= 0x7f) {
    put(static_cast<std::uint8_t>(u));
  } else if (u <= 0xff) {
    put(0xcc);
    put_be(u, 1);
  } else if (u <= 0xffff) {
    put(0xcd);
    put_be(u, 2);
  } else if (u <= 0xffffffffu) {
    put(0xce);
    put_be(u, 4);
  } else {
    put(0xcf);
    put_be(u, 8);
  }
}

void msgpack_writer::integer(std::int64_t i) {
  if (i >= 0) {
    unsigned_integer(static_cast<std::uint64_t>(i));
  } else if (i >= -32) {
    put(static_cast<std::uint8_t>(i));  // negative fixint: 111xxxxx
  } else if (i >= std::numeric_limits<std::int8_t>::min()) {
    put(0xd0);
    put_be(static_cast<std::uint64_t>(i), 1);
  } else if (i >= std::numeric_limits<std::int16_t>::min()) {
    put(0xd1);
    put_be(static_cast<std::uint64_t>(i), 2);
  } else if (i >= std::numeric_limits<std::int32_t>::min()) {
    put(0xd2);
    put_be(static_cast<std::uint64_t>(i), 4);
  } else {
    put(0xd3);
    put_be(static_cast<std::uint64_t>(i), 8);
  }
}

void msgpack_writer::float64(double d) {
  std::uint64_t bits;
  static_assert(sizeof bits == sizeof d);
  std::memcpy(&bits, &d, sizeof bits);
  put(0xcb);
  put_be(bits, 8);
}

void msgpack_writer::string(std::string_view s) {
  const std::size_t n = s.size();
  if (n < 32) {
    put(static_cast<std::uint8_t>(0xa0 | n));
  } else if (n <= 0xff) {
    put(0xd9);
    put_be(n, 1);
  } else if (n <= 0xffff) {
    put(0xda);
    put_be(n, 2);
  } else {
    put(0xdb);
    put_be(n, 4);
  }
  out_.append(s);
}

void msgpack_writer::binary(std::string_view b) {
  const std::size_t n = b.size();
  if (n <= 0xff) {
    put(0xc4);
    put_be(n, 1);
  } else if (n <= 0xffff) {
    put(0xc5);
    put_be(n, 2);
  } else {
    put(0xc6);
    put_be(n, 4);
  }
  out_.append(b);
}

void msgpack_writer::array_header(std::uint32_t count) {
  if (count < 16) {
    put(static_cast<std::uint8_t>(0x90 | count));
  } else if (count <= 0xffff) {
    put(0xdc);
    put_be(count, 2);
  } else {
    put(0xdd);
    put_be(count, 4);
  }
}

void msgpack_writer::map_header(std::uint32_t count) {
  if (count < 16) {
    put(static_cast<std::uint8_t>(0x80 | count));
  } else if (count <= 0xffff) {
    put(0xde);
    put_be(count, 2);
  } else {
    put(0xdf);
    put_be(count, 4);
  }
}

void msgpack_writer::timestamp(rules::time_ns t) {
  // Seconds rounded towards minus infinity so the nanoseconds are always in [0, 1e9).
  std::int64_t sec = t / rules::k_ns_per_s;
  std::int64_t nsec = t % rules::k_ns_per_s;
  if (nsec < 0) {
    nsec += rules::k_ns_per_s;
    sec -= 1;
  }
  if (sec >= 0 && (sec >> 34) == 0) {
    if (nsec == 0 && (sec >> 32) == 0) {
      put(0xd6);  // fixext4, timestamp 32
      put(0xff);
      put_be(static_cast<std::uint64_t>(sec), 4);
    } else {
      put(0xd7);  // fixext8, timestamp 64: 30-bit nanoseconds over 34-bit seconds
      put(0xff);
      put_be((static_cast<std::uint64_t>(nsec) << 34) | static_cast<std::uint64_t>(sec), 8);
    }
  } else {
    put(0xc7);  // ext8 with 12 bytes, timestamp 96
    put(12);
    put(0xff);
    put_be(static_cast<std::uint64_t>(nsec), 4);
    put_be(static_cast<std::uint64_t>(sec), 8);
  }
}

std::string msgpack_array_header(std::uint32_t count) {
  std::string out;
  msgpack_writer(out).array_header(count);
  return out;
}

// ---- JSON -> msgpack ----------------------------------------------------------------------------

namespace {

// Alpaca's price fields. In a trade `c` is the conditions array and stays an array; a number
// under `c` is a bar's close.
bool is_price_key(std::string_view k) noexcept {
  switch (k.size()) {
    case 1:
      return k == "p" || k == "o" || k == "h" || k == "l" || k == "c" || k == "u" || k == "d";
    case 2:
      return k == "bp" || k == "ap" || k == "vw" || k == "op" || k == "cp";
    default:
      return false;
  }
}

}  // namespace

struct json_to_msgpack::impl {
  msgpack_options options;
  simdjson::dom::parser parser;

  void encode(simdjson::dom::element e, msgpack_writer& w, std::string_view key) {
    using et = simdjson::dom::element_type;
    switch (e.type()) {
      case et::OBJECT: {
        simdjson::dom::object o(e);
        std::uint32_t n = 0;
        for ([[maybe_unused]] auto f : o) ++n;
        w.map_header(n);
        for (auto f : o) {
          w.string(f.key);
          encode(f.value, w, f.key);
        }
        break;
      }
      case et::ARRAY: {
        simdjson::dom::array a(e);
        std::uint32_t n = 0;
        for ([[maybe_unused]] auto item : a) ++n;
        w.array_header(n);
        for (auto item : a) encode(item, w, {});
        break;
      }
      case et::STRING: {
        const std::string_view s(e);
        if (options.times_as_timestamps && key == "t") {
          if (auto t = rules::parse_rfc3339(s)) {
            w.timestamp(*t);
            break;
          }
        }
        w.string(s);
        break;
      }
      case et::INT64:
        if (options.prices_as_float && is_price_key(key)) {
          w.float64(static_cast<double>(std::int64_t(e)));
        } else {
          w.integer(std::int64_t(e));
        }
        break;
      case et::UINT64:
        if (options.prices_as_float && is_price_key(key)) {
          w.float64(static_cast<double>(std::uint64_t(e)));
        } else {
          w.unsigned_integer(std::uint64_t(e));
        }
        break;
      case et::DOUBLE:
        w.float64(double(e));
        break;
      case et::BOOL:
        w.boolean(bool(e));
        break;
      case et::NULL_VALUE:
        w.nil();
        break;
    }
  }
};

json_to_msgpack::json_to_msgpack(msgpack_options options) : impl_(std::make_unique<impl>()) {
  impl_->options = options;
}
json_to_msgpack::~json_to_msgpack() = default;
json_to_msgpack::json_to_msgpack(json_to_msgpack&&) noexcept = default;
json_to_msgpack& json_to_msgpack::operator=(json_to_msgpack&&) noexcept = default;

bool json_to_msgpack::encode(std::string_view json, std::string& out, std::string* error) {
  simdjson::dom::element root;
  if (auto err = impl_->parser.parse(json.data(), json.size()).get(root);
      err != simdjson::SUCCESS) {
    if (error) *error = simdjson::error_message(err);
    return false;
  }
  msgpack_writer w(out);
  impl_->encode(root, w, {});
  return true;
}

// ---- msgpack -> value ---------------------------------------------------------------------------

namespace {

class decoder {
 public:
  explicit decoder(std::string_view in) : in_(in) {}

  bool value(json_value& out, int depth) {
    if (depth > k_max_value_depth) return fail("nested too deeply");
    std::uint8_t b;
    if (!byte(b)) return false;
    if (b <= 0x7f) return set_int(out, b);
    if (b >= 0xe0) return set_int(out, static_cast<std::int8_t>(b));
    if ((b & 0xf0) == 0x80) return map(out, b & 0x0f, depth);
    if ((b & 0xf0) == 0x90) return array(out, b & 0x0f, depth);
    if ((b & 0xe0) == 0xa0) return str(out, b & 0x1f);
    std::uint64_t n = 0;
    switch (b) {
      case 0xc0:
        out.type = json_value::kind::null;
        return true;
      case 0xc2:
      case 0xc3:
        out.type = json_value::kind::boolean;
        out.boolean = b == 0xc3;
        return true;
      case 0xc4:
      case 0xd9:
        return be(n, 1) && str(out, n);
      case 0xc5:
      case 0xda:
        return be(n, 2) && str(out, n);
      case 0xc6:
      case 0xdb:
        return be(n, 4) && str(out, n);
      case 0xc7:
        return be(n, 1) && ext(out, n);
      case 0xc8:
        return be(n, 2) && ext(out, n);
      case 0xc9:
        return be(n, 4) && ext(out, n);
      case 0xca: {
        if (!be(n, 4)) return false;
        const auto bits = static_cast<std::uint32_t>(n);
        float f;
        std::memcpy(&f, &bits, sizeof f);
        return set_number(out, f);
      }
      case 0xcb: {
        if (!be(n, 8)) return false;
        double d;
        std::memcpy(&d, &n, sizeof d);
        return set_number(out, d);
      }
      case 0xcc:
        return be(n, 1) && set_int(out, static_cast<std::int64_t>(n));
      case 0xcd:
        return be(n, 2) && set_int(out, static_cast<std::int64_t>(n));
      case 0xce:
        return be(n, 4) && set_int(out, static_cast<std::int64_t>(n));
      case 0xcf:
        if (!be(n, 8)) return false;
        if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          return set_number(out, static_cast<double>(n));
        }
        return set_int(out, static_cast<std::int64_t>(n));
      case 0xd0:
        return be(n, 1) && set_int(out, static_cast<std::int8_t>(n));
      case 0xd1:
        return be(n, 2) && set_int(out, static_cast<std::int16_t>(n));
      case 0xd2:
        return be(n, 4) && set_int(out, static_cast<std::int32_t>(n));
      case 0xd3:
        return be(n, 8) && set_int(out, static_cast<std::int64_t>(n));
      case 0xd4:
        return ext(out, 1);
      case 0xd5:
        return ext(out, 2);
      case 0xd6:
        return ext(out, 4);
      case 0xd7:
        return ext(out, 8);
      case 0xd8:
        return ext(out, 16);
      case 0xdc:
        return be(n, 2) && array(out, n, depth);
      case 0xdd:
        return be(n, 4) && array(out, n, depth);
      case 0xde:
        return be(n, 2) && map(out, n, depth);
      case 0xdf:
        return be(n, 4) && map(out, n, depth);
      default:
        return fail("reserved type byte 0xc1");
    }
  }

  bool at_end() const noexcept { return pos_ == in_.size(); }
  const std::string& error() const noexcept { return error_; }
  bool fail(const char* why) {
    if (error_.empty()) error_ = why;
    return false;
  }

 private:
  bool byte(std::uint8_t& b) {
    if (pos_ >= in_.size()) return fail("truncated");
    b = static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  bool be(std::uint64_t& n, int bytes) {
    if (in_.size() - pos_ < static_cast<std::size_t>(bytes)) return fail("truncated");
    n = 0;
    for (int i = 0; i < bytes; ++i) n = (n << 8) | static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  bool take(std::size_t n, std::string_view& s) {
    if (in_.size() - pos_ < n) return fail("truncated");
    s = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  static bool set_int(json_value& out, std::int64_t i) {
    out.type = json_value::kind::integer;
    out.integer = i;
    out.number = static_cast<double>(i);
    return true;
  }
  static bool set_number(json_value& out, double d) {
    out.type = json_value::kind::number;
    out.number = d;
    return true;
  }
  bool str(json_value& out, std::uint64_t n) {
    std::string_view s;
    if (!take(n, s)) return false;
    out.type = json_value::kind::string;
    out.string.assign(s);
    return true;
  }
  bool array(json_value& out, std::uint64_t n, int depth) {
    // Every item takes at least one byte: a count beyond what is left is a lie, refused before
    // reserving memory for it.
    if (n > in_.size() - pos_) return fail("truncated");
    out.type = json_value::kind::array;
    out.items.resize(n);
    for (auto& item : out.items) {
      if (!value(item, depth + 1)) return false;
    }
    return true;
  }
  bool map(json_value& out, std::uint64_t n, int depth) {
    if (n > (in_.size() - pos_) / 2) return fail("truncated");
    out.type = json_value::kind::object;
    out.fields.resize(n);
    for (auto& [k, v] : out.fields) {
      json_value key;
      if (!value(key, depth + 1)) return false;
      if (key.type != json_value::kind::string) return fail("map key is not a string");
      k = std::move(key.string);
      if (!value(v, depth + 1)) return false;
    }
    return true;
  }
  bool ext(json_value& out, std::uint64_t n) {
    std::uint8_t type;
    if (!byte(type)) return false;
    std::string_view data;
    if (!take(n, data)) return false;
    if (static_cast<std::int8_t>(type) != -1) return fail("unsupported extension type");
    std::int64_t sec = 0;
    std::uint32_t nsec = 0;
    auto be_at = [&](std::size_t off, int bytes) {
      std::uint64_t v = 0;
      for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<std::uint8_t>(data[off + i]);
      return v;
    };
    if (n == 4) {
      sec = static_cast<std::int64_t>(be_at(0, 4));
    } else if (n == 8) {
      const std::uint64_t v = be_at(0, 8);
      nsec = static_cast<std::uint32_t>(v >> 34);
      sec = static_cast<std::int64_t>(v & ((std::uint64_t{1} << 34) - 1));
    } else if (n == 12) {
      nsec = static_cast<std::uint32_t>(be_at(0, 4));
      sec = static_cast<std::int64_t>(be_at(4, 8));
    } else {
      return fail("bad timestamp length");
    }
    if (nsec >= 1'000'000'000u) return fail("timestamp nanoseconds out of range");
    out.type = json_value::kind::string;
    out.string = format_rfc3339_ns(sec * rules::k_ns_per_s + nsec);
    return true;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace

std::optional<json_value> decode_msgpack(std::string_view bytes, std::string* error) {
  decoder d(bytes);
  json_value out;
  if (!d.value(out, 0) || (!d.at_end() && !d.fail("trailing bytes after the item"))) {
    if (error) *error = d.error();
    return std::nullopt;
  }
  return out;
}

std::string format_rfc3339_ns(rules::time_ns t) {
  std::int64_t days = t / rules::k_ns_per_day;
  std::int64_t rem = t % rules::k_ns_per_day;
  if (rem < 0) {
    rem += rules::k_ns_per_day;
    days -= 1;
  }
  const rules::civil_date date = rules::civil_from_days(days);
  const auto secs = rem / rules::k_ns_per_s;
  const auto ns = rem % rules::k_ns_per_s;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09lldZ",
                static_cast<long long>(date.year), date.month, date.day,
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60), static_cast<long long>(ns));
  return buf;
}

}  // namespace aftershock::feedsim
