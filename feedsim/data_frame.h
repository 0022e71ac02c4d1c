// One captured frame made ready to serve: split into its data elements (trades, quotes, news
// ...) with what routing needs (type, symbol, tagged symbols), and rendered for each client as
// the subset it subscribed to, in its own encoding. Elements keep their exact captured bytes:
// a filtered frame is the captured frame with elements left out, never a re-serialisation.
//
// Frames that are not their dialect's framing (the capture's `raw` records, generic frames,
// unknown shapes) are opaque: served whole to every client of that dialect, as a vendor would
// have sent them. Vendor control messages in a capture (greetings, acks, pings) are marked and
// never replayed: the simulator speaks the protocol itself.
//
// Not thread-safe, and neither copyable nor movable: element views point into the object's own
// buffers. One instance is reused for every record of a playback.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "feeds/frame_parser.h"
#include "feedsim/msgpack.h"

namespace aftershock::feedsim {

class message_deflater;

struct frame_element {
  std::string_view text;    // the element's JSON exactly as captured
  std::string_view kind;    // Alpaca `T`, Polygon `ev`, Finnhub frame `type`, Binance stream name
  std::string_view symbol;  // `S`, `sym`, Finnhub `s`; empty when the element has none
  std::uint32_t symbols_begin = 0;  // news: the tagged symbols, in data_frame::symbol_pool()
  std::uint32_t symbols_count = 0;
  bool control = false;  // a vendor control message: never forwarded
};

/// How a client wants frames encoded.
struct render_format {
  bool msgpack = false;           // Alpaca binary mode
  bool binance_combined = false;  // wrap Binance events as {"stream":..,"data":..}
};

/// A rendered frame: shared, because a frame that goes out whole goes to many clients.
struct rendered_frame {
  std::shared_ptr<const std::string> bytes;
  bool binary = false;
};

class data_frame {
 public:
  data_frame();
  ~data_frame();
  data_frame(const data_frame&) = delete;
  data_frame& operator=(const data_frame&) = delete;

  /// Re-reads the object from one captured frame (buffers are reused).
  void assign(feeds::dialect d, std::string_view text);

  feeds::dialect dialect() const noexcept { return dialect_; }
  std::string_view text() const noexcept { return text_; }
  /// Served whole to every client of the dialect (see the header comment).
  bool opaque() const noexcept { return opaque_; }
  const std::vector<frame_element>& elements() const noexcept { return elements_; }
  const std::vector<std::string_view>& symbol_pool() const noexcept { return symbol_pool_; }
  /// Elements that are data (not control); an opaque frame counts as one.
  std::size_t data_count() const noexcept { return data_count_; }
  /// Binance: the capture already wrapped the event as {"stream":..,"data":..}.
  bool binance_wrapped() const noexcept { return binance_wrapped_; }

  /// The frame as one client gets it: `selected` lists element indexes in order (ignored for
  /// opaque frames). nullptr bytes when nothing is left to send. The whole frame, when every
  /// element is selected, is rendered once and shared.
  rendered_frame render(const std::vector<std::uint32_t>& selected, render_format format);

  /// A permessage-deflate payload for `rendered` (a rendering of the current frame): raw
  /// DEFLATE at `level` with a window of 2^window_bits, ended by a sync flush whose final
  /// 00 00 ff ff is removed (RFC 7692 7.2.1). Each message is compressed on its own, never
  /// referring back to earlier ones, so the bytes are valid on every connection whatever its
  /// context takeover, and clients whose rendering is the same (same bytes) share one
  /// compression per frame. Null if compression failed (send the message uncompressed).
  std::shared_ptr<const std::string> deflated(const std::shared_ptr<const std::string>& rendered,
                                              int level, int window_bits);

 private:
  void scan_alpaca_or_polygon();
  void scan_finnhub();
  void scan_binance();
  std::string_view keep(std::string s);  // storage for unescaped strings
  const std::string& element_msgpack(std::uint32_t i);
  bool selects_all(const std::vector<std::uint32_t>& selected) const noexcept;

  feeds::dialect dialect_ = feeds::dialect::generic;
  std::string text_;
  bool opaque_ = true;
  bool binance_wrapped_ = false;
  std::size_t data_count_ = 0;
  std::size_t open_end_ = 0;     // just after the '[' whose items are the elements
  std::size_t close_begin_ = 0;  // at the matching ']'
  std::vector<frame_element> elements_;
  std::vector<std::string_view> symbol_pool_;
  std::deque<std::string> kept_;  // a deque: growing it never moves what views point at
  std::string binance_kind_;      // a raw event's stream name, built from `s` and `e`

  // Compression (deflated()): the compressor, reused, and this frame's compressed renderings.
  struct deflated_rendering {
    std::shared_ptr<const std::string> rendered;
    int level = 0;
    int window_bits = 0;
    std::shared_ptr<const std::string> bytes;
  };
  std::unique_ptr<message_deflater> deflater_;
  std::vector<deflated_rendering> deflated_;

  // Render caches, valid for the current frame only.
  std::shared_ptr<const std::string> whole_text_, whole_msgpack_, whole_combined_;
  std::vector<std::string> element_msgpack_;
  std::vector<bool> element_msgpack_ready_;
  json_to_msgpack encoder_;
};

}  // namespace aftershock::feedsim
