#include "feeds/frame_parser.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "feeds/dialects/json_helpers.h"

namespace aftershock::feeds {

namespace {

constexpr std::array<const char*, k_dialect_count> k_dialect_names = {
    "alpaca-stocks", "alpaca-news", "finnhub", "polygon-stocks", "binance", "generic",
};

std::unique_ptr<detail::decoder> make_decoder(dialect d) {
  switch (d) {
    case dialect::alpaca_stocks:
      return detail::make_alpaca_decoder(false);
    case dialect::alpaca_news:
      return detail::make_alpaca_decoder(true);
    case dialect::finnhub:
      return detail::make_finnhub_decoder();
    case dialect::polygon_stocks:
      return detail::make_polygon_decoder();
    case dialect::binance:
      return detail::make_binance_decoder();
    case dialect::generic:
      return detail::make_generic_decoder();
  }
  return detail::make_generic_decoder();
}

parse_result reject_frame(parse_error why) {
  parse_result r;
  r.rejected = 1;
  r.error = why;
  return r;
}

}  // namespace

std::optional<dialect> dialect_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < k_dialect_names.size(); ++i) {
    if (name == k_dialect_names[i]) return static_cast<dialect>(i);
  }
  return std::nullopt;
}

const char* to_string(dialect d) noexcept {
  const auto i = static_cast<std::size_t>(d);
  return i < k_dialect_names.size() ? k_dialect_names[i] : "unknown";
}

// The kernel this translation unit's On-Demand code was compiled for. (builtin_implementation()
// would name the shared library's, which is not the one inlined here.)
#define AFTERSHOCK_KERNEL_TEXT2(x) #x
#define AFTERSHOCK_KERNEL_TEXT(x) AFTERSHOCK_KERNEL_TEXT2(x)
const char* parser_kernel_name() noexcept {
  return AFTERSHOCK_KERNEL_TEXT(SIMDJSON_BUILTIN_IMPLEMENTATION);
}

const char* to_string(parse_error e) noexcept {
  switch (e) {
    case parse_error::none:
      return "none";
    case parse_error::invalid_json:
      return "invalid_json";
    case parse_error::unexpected_shape:
      return "unexpected_shape";
    case parse_error::missing_field:
      return "missing_field";
    case parse_error::bad_value:
      return "bad_value";
    case parse_error::too_large:
      return "too_large";
  }
  return "unknown";
}

struct frame_parser::impl {
  explicit impl(dialect d) : which(d), decoder(make_decoder(d)) {}

  // Copies the frame into a buffer with simdjson's padding after it. The buffer only grows,
  // doubling, so a session settles on one allocation for its largest frame.
  const char* pad(std::string_view frame) {
    const std::size_t needed = frame.size() + simdjson::SIMDJSON_PADDING;
    if (needed > capacity) {
      const std::size_t grown = std::max({needed, capacity * 2, std::size_t{4096}});
      buffer = std::make_unique<char[]>(grown);
      capacity = grown;
    }
    if (!frame.empty()) std::memcpy(buffer.get(), frame.data(), frame.size());
    // Spaces, never leftovers from a longer frame: on-demand peeks at the first padding byte to
    // decide whether a document that ends in ']' or '}' needs a balance check (simdjson #1834).
    std::memset(buffer.get() + frame.size(), ' ', simdjson::SIMDJSON_PADDING);
    return buffer.get();
  }

  // Parses `size` bytes at `text`, with `allocated` readable bytes there (>= size + padding).
  parse_result decode(const char* text, std::size_t size, std::size_t allocated,
                      std::vector<rules::event>& out);

  dialect which;
  std::unique_ptr<detail::decoder> decoder;
  simdjson::ondemand::parser parser;
  std::unique_ptr<char[]> buffer;
  std::size_t capacity = 0;
};

frame_parser::frame_parser(dialect d) : impl_(std::make_unique<impl>(d)) {}
frame_parser::~frame_parser() = default;
frame_parser::frame_parser(frame_parser&&) noexcept = default;
frame_parser& frame_parser::operator=(frame_parser&&) noexcept = default;

dialect frame_parser::which() const noexcept { return impl_->which; }

static_assert(k_frame_padding == simdjson::SIMDJSON_PADDING);

parse_result frame_parser::parse(std::string_view frame, std::vector<rules::event>& out) {
  if (frame.size() > k_max_frame_bytes) return reject_frame(parse_error::too_large);
  const char* text = impl_->pad(frame);
  return impl_->decode(text, frame.size(), impl_->capacity, out);
}

parse_result frame_parser::parse_padded(std::string_view frame, std::vector<rules::event>& out) {
  if (frame.size() > k_max_frame_bytes) return reject_frame(parse_error::too_large);
  // What follows the frame is whatever the caller has there (the rest of a capture line): the
  // one byte on-demand peeks at past the end only decides whether it re-checks the brackets'
  // balance (simdjson #1834), so any content is safe.
  return impl_->decode(frame.data(), frame.size(), frame.size() + k_frame_padding, out);
}

parse_result frame_parser::impl::decode(const char* text, std::size_t size, std::size_t allocated,
                                        std::vector<rules::event>& out) {
  simdjson::ondemand::document doc;
  if (parser.iterate(text, size, allocated).get(doc) != simdjson::SUCCESS) {
    return reject_frame(parse_error::invalid_json);  // empty, bad UTF-8, unclosed string ...
  }

  parse_result result;
  const std::size_t first_new = out.size();
  detail::frame_sink sink(out, result);
  parse_error fatal = decoder->decode(doc, sink);
  if (fatal != parse_error::invalid_json) {
    // The decoders walk the root to its end, also when they then find it wanting (a missing
    // "type" ...); anything after it (`[...]]`, two documents) makes the frame invalid JSON,
    // which is the more basic fault. OUT_OF_BOUNDS means "nothing left", the good case.
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
      fatal = parse_error::invalid_json;
    }
  }
  if (fatal != parse_error::none) {
    // All or nothing for framing errors: a truncated batch must not leak its first half.
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(first_new), out.end());
    return reject_frame(fatal);
  }
  return result;
}

}  // namespace aftershock::feeds
