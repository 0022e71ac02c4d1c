// Compresses one WebSocket message on its own for permessage-deflate (RFC 7692): raw DEFLATE
// ended by a sync flush whose final 00 00 ff ff is removed (7.2.1), never referring back to an
// earlier message. Such a payload is valid on every connection that agreed permessage-deflate
// with at least that window, whatever its context takeover, so one compression can be shared
// by every client that gets the same bytes, or made once before playback (playlist).
//
// Not thread-safe: one instance per thread; the compressor's state is reused between calls.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace aftershock::feedsim {

class message_deflater {
 public:
  message_deflater();
  ~message_deflater();
  message_deflater(const message_deflater&) = delete;
  message_deflater& operator=(const message_deflater&) = delete;

  /// Replaces `out` with the compressed payload of `message` at zlib `level` (1 to 9) with a
  /// window of 2^window_bits (9 to 15). False if compression failed or `message` is empty
  /// (send the message uncompressed).
  bool deflate(std::string_view message, int level, int window_bits, std::string& out);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace aftershock::feedsim
