// Fuzz target body for the config loader: YAML text in, a config or located errors out.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/config_loader.h"
#include "fuzz_targets.h"

namespace aftershock::fuzz {

void config_loader_one(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Calendar paths are read from disk: keep the fuzzer away from device and proc files, which
  // never end (a config naming /dev/zero is the operator's own doing, not a parser bug).
  for (std::string_view bad : {"/dev", "/proc", "/sys", "/run"}) {
    if (text.find(bad) != std::string_view::npos) return;
  }
  // Named as if beside the default config, so relative calendar paths resolve as they do there.
  static const std::string source = std::string(AFTERSHOCK_SOURCE_DIR) + "/deploy/config/fuzz.yaml";
  const daemon::loaded_config loaded = daemon::load_config(text, source);
  if (loaded.ok() != (loaded.compiled != nullptr)) {
    std::fprintf(stderr, "fuzz invariant broken: ok() and compiled disagree\n");
    std::abort();
  }
  for (const daemon::config_error& e : loaded.errors) {
    if (e.file.empty() || e.message.empty() || e.line < 0 || e.column < 0) {
      std::fprintf(stderr, "fuzz invariant broken: error without file or message: %s\n",
                   e.to_string().c_str());
      std::abort();
    }
  }
}

}  // namespace aftershock::fuzz
