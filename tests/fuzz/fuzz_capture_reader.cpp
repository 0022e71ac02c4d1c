// Fuzz target body for the capture reader: arbitrary text as two captures, merged.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "feeds/capture_reader.h"
#include "fuzz_targets.h"

namespace aftershock::fuzz {

void capture_reader_one(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  feeds::capture_reader reader;
  reader.add("first", text);
  reader.add("second", text.substr(size / 2));

  feeds::capture_record r;
  std::size_t frames = 0;
  while (reader.next(r)) {
    ++frames;
    if (r.source != "first" && r.source != "second") {
      std::fprintf(stderr, "fuzz invariant broken: unknown source\n");
      std::abort();
    }
    if (r.line == 0) {
      std::fprintf(stderr, "fuzz invariant broken: line 0\n");
      std::abort();
    }
    // Touch every byte of the view: it must point at live memory until the next call.
    volatile unsigned char sink = 0;
    for (char c : r.frame) sink = sink ^ static_cast<unsigned char>(c);
    (void)sink;
  }
  const feeds::capture_stats& s = reader.stats();
  if (s.frames != frames || s.frames + s.bad_lines > s.lines) {
    std::fprintf(stderr, "fuzz invariant broken: capture stats (%zu frames, %zu yielded)\n",
                 s.frames, frames);
    std::abort();
  }
}

}  // namespace aftershock::fuzz
