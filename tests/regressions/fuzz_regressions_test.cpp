// Replays every fuzz seed (tests/fuzz/seeds/<target>/) and every input a fuzzer ever crashed on
// (tests/regressions/<target>/, named after what broke) through the fuzz targets' bodies, in the
// normal build: a crash found once stays fixed. The targets abort on a broken invariant, and
// ASan/UBSan (scripts/sanitize asan) check the memory side.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_targets.h"

namespace aftershock::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> inputs_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() != ".md") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

class fuzz_inputs : public testing::TestWithParam<target_info> {};

TEST_P(fuzz_inputs, seeds_and_past_crashes_run_clean) {
  const target_info& target = GetParam();
  const fs::path source(AFTERSHOCK_SOURCE_DIR);
  std::vector<fs::path> files = inputs_in(source / "tests/fuzz/seeds" / target.name);
  const std::vector<fs::path> crashes = inputs_in(source / "tests/regressions" / target.name);
  files.insert(files.end(), crashes.begin(), crashes.end());
  EXPECT_FALSE(files.empty()) << "no seeds for " << target.name
                              << " (tests/fuzz/make_seeds.py writes them)";
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    const std::string bytes = read_all(f);
    target.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
}

// Inputs of the kinds fuzzers find first, for every target (each must simply not crash).
TEST_P(fuzz_inputs, degenerate_inputs_run_clean) {
  const target_info& target = GetParam();
  const std::vector<std::string> inputs = {
      "", std::string(1, '\0'), "[", "{", "\"", "[{", "{\"", "\xff\xfe", std::string(4096, '['),
      std::string(4096, '{'), "[" + std::string(100000, ' ') + "]", "\x01", "\x01\n\n\n",
      std::string("\x01") + std::string(300, 'a'), "- - - - -\n  - [[[[", "a: &x [*x]\n"};
  for (const std::string& in : inputs) {
    target.run(reinterpret_cast<const std::uint8_t*>(in.data()), in.size());
  }
}

INSTANTIATE_TEST_SUITE_P(all, fuzz_inputs, testing::ValuesIn(all_targets()),
                         [](const testing::TestParamInfo<target_info>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace aftershock::fuzz
