// Fuzz target body for the headline matcher: hostile text against the default universe, and
// hostile aliases building a matcher of their own.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/config_loader.h"
#include "fuzz_targets.h"
#include "rules/headline_matcher.h"

namespace aftershock::fuzz {
namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> lines;
  while (!s.empty()) {
    const std::size_t nl = s.find('\n');
    lines.emplace_back(s.substr(0, nl));
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return lines;
}

void check(const rules::match_result& m, std::string_view text) {
  for (const rules::entity_match& e : m.entities) {
    if (e.symbol.empty()) broken("entity match without a symbol");
    if (e.how == rules::link_kind::direct && e.position >= text.size()) {
      broken("direct match position outside the text");
    }
  }
  for (const rules::theme_match& t : m.themes) {
    if (t.position >= text.size()) broken("theme match position outside the text");
  }
}

const rules::headline_matcher& default_matcher() {
  static const std::shared_ptr<const rules::compiled_rules> compiled = [] {
    daemon::loaded_config loaded = daemon::load_config_file(
        std::string(AFTERSHOCK_SOURCE_DIR) + "/deploy/config/aftershock.yaml");
    if (!loaded.ok()) broken("deploy/config/aftershock.yaml does not load");
    return loaded.compiled;
  }();
  return compiled->matcher();
}

}  // namespace

void headline_matcher_one(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && input[0] == '\x01') {
    // Build mode: every line an alias of its own entity (half of them ambiguous, with the
    // next line as context), then match every line and the whole input.
    const std::vector<std::string> lines = split_lines(input.substr(1));
    std::vector<rules::entity_spec> entities;
    std::vector<rules::theme_spec> themes;
    for (std::size_t i = 0; i < lines.size() && i < 64; ++i) {
      rules::entity_spec e;
      e.symbol = "S" + std::to_string(i);
      e.name = e.symbol;
      if (i % 2 == 0) {
        e.aliases.push_back(lines[i]);
      } else {
        e.ambiguous_aliases.push_back(lines[i]);
        if (i + 1 < lines.size()) e.context.push_back(lines[i + 1]);
        if (i >= 2) e.negative.push_back(lines[i - 2]);
      }
      entities.push_back(std::move(e));
      if (i % 3 == 0) themes.push_back({"t" + std::to_string(i), {lines[i]}, {}, {}});
    }
    std::vector<rules::matcher_error> errors;
    const rules::headline_matcher matcher(entities, themes, &errors);
    for (const std::string& line : lines) check(matcher.match(line, {"S0", line}), line);
    check(matcher.match(input), input);
    return;
  }

  std::vector<std::string> feed_symbols;
  const std::size_t nul = input.find('\0');
  if (nul != std::string_view::npos) {
    feed_symbols = split_lines(input.substr(nul + 1));
    input = input.substr(0, nul);
  }
  check(default_matcher().match(input, feed_symbols), input);
}

}  // namespace aftershock::fuzz
