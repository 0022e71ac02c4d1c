// Every malformed configuration in tests/data/bad-configs/ is rejected by `aftershockd
// check-config` with exit 78 (EX_CONFIG) and a FILE:LINE: message. Each file says in its first
// comment which error it expects ("# Expected error: ..."), and marks the offending line with
// "<- error"; the reported line must be that one.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/config_loader.h"
#include "tests/support/child_process.h"

namespace aftershock {
namespace {

namespace fs = std::filesystem;

const fs::path k_dir = fs::path(AFTERSHOCK_TEST_DATA_DIR) / "bad-configs";

std::vector<std::string> bad_configs() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(k_dir)) {
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct expectation {
  std::string message;  // substring of the error; empty: any
  int line = 0;         // the marked line; 0: any line > 0
};

expectation read_expectation(const fs::path& file) {
  std::ifstream in(file);
  expectation ex;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const std::string tag = "# Expected error: ";
    if (n == 1 && line.rfind(tag, 0) == 0) {
      ex.message = line.substr(tag.size());
      if (ex.message.rfind("(", 0) == 0) ex.message.clear();  // "(see the marked line)"
    }
    if (n > 1 && line.find("# <- error") != std::string::npos) ex.line = n;
  }
  return ex;
}

TEST(bad_configs, there_are_at_least_thirty) { EXPECT_GE(bad_configs().size(), 30u); }

class bad_config : public testing::TestWithParam<std::string> {};

TEST_P(bad_config, check_config_exits_78_naming_file_and_line) {
  const fs::path file = k_dir / (GetParam() + ".yaml");
  const expectation ex = read_expectation(file);
  std::string output;
  const std::string aftershockd = std::string(AFTERSHOCK_BIN_DIR) + "/aftershockd";
  const auto status = test::run_program(
      {"/bin/sh", "-c", "exec \"$0\" check-config \"$1\" 2>&1", aftershockd, file.string()},
      std::chrono::seconds(30), &output);
  ASSERT_TRUE(status.has_value()) << "check-config did not finish";
  EXPECT_EQ(*status, 78) << output;

  // FILE:LINE:COL: message, for this file, on the marked line.
  const std::string prefix = file.string() + ":";
  const std::size_t at = output.find(prefix);
  ASSERT_NE(at, std::string::npos) << "no " << prefix << " in: " << output;
  if (ex.line > 0) {
    EXPECT_NE(output.find(prefix + std::to_string(ex.line) + ":"), std::string::npos)
        << "expected line " << ex.line << " in: " << output;
  } else {
    const int reported = std::atoi(output.c_str() + at + prefix.size());
    EXPECT_GT(reported, 0) << output;
  }
  if (!ex.message.empty()) {
    EXPECT_NE(output.find(ex.message), std::string::npos)
        << "expected \"" << ex.message << "\" in: " << output;
  }
}

// The same files through the loader, in-process: never ok, never a compiled config.
TEST_P(bad_config, loader_rejects_it) {
  const daemon::loaded_config loaded =
      daemon::load_config_file((k_dir / (GetParam() + ".yaml")).string());
  EXPECT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.compiled, nullptr);
}

INSTANTIATE_TEST_SUITE_P(all, bad_config, testing::ValuesIn(bad_configs()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace aftershock
