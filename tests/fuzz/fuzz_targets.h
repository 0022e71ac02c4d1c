// The fuzz targets' entry points, one function per target, so the same code runs under
// libFuzzer (tests/fuzz, clang, AFTERSHOCK_FUZZ=ON) and under the normal test suite, where
// tests/regressions/fuzz_regressions_test.cpp replays the seeds and every crash input ever found.
// Each function must never crash, hang or leak on any input; a broken invariant aborts.
// Stateless between calls apart from lazily built read-only fixtures; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "feeds/frame_parser.h"

namespace aftershock::fuzz {

/// One frame through a dialect parser; checks the parser's documented output conventions.
void frame_parser_one(feeds::dialect d, const std::uint8_t* data, std::size_t size);

/// A whole capture text (two captures: the input and its second half) through the reader.
void capture_reader_one(const std::uint8_t* data, std::size_t size);

/// A YAML configuration text through the loader; errors must carry a file and be non-empty.
void config_loader_one(const std::uint8_t* data, std::size_t size);

/// Headline text through the matcher built from deploy/config/aftershock.yaml. Bytes after
/// the first NUL are feed symbols, one per line. An input starting with 0x01 instead builds
/// a matcher from its lines (aliases) and matches each line against it.
void headline_matcher_one(const std::uint8_t* data, std::size_t size);

/// The fuzz target names scripts/fuzz and the regression test know, with their seed folder.
struct target_info {
  const char* name;  // "frame_alpaca_stocks", "capture_reader" ...
  void (*run)(const std::uint8_t*, std::size_t);
};
const std::vector<target_info>& all_targets();

}  // namespace aftershock::fuzz
