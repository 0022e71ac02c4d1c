// libFuzzer entry point for one target, chosen at compile time by AFTERSHOCK_FUZZ_TARGET (its
// name in all_targets()). Built only with clang and AFTERSHOCK_FUZZ=ON.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fuzz_targets.h"

namespace {

void (*chosen)(const std::uint8_t*, std::size_t) = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  for (const auto& t : aftershock::fuzz::all_targets()) {
    if (std::strcmp(t.name, AFTERSHOCK_FUZZ_TARGET) == 0) chosen = t.run;
  }
  if (chosen == nullptr) {
    std::fprintf(stderr, "unknown fuzz target %s\n", AFTERSHOCK_FUZZ_TARGET);
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  chosen(data, size);
  return 0;
}
