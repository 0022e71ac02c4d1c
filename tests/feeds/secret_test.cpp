// Unit tests for feeds::secret: every formatting path prints "<redacted>", references resolve
// from an injected environment and file system, and URLs and texts are scrubbed.
#include "feeds/secret.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

namespace aftershock::feeds {
namespace {

secret_source fake_source(std::map<std::string, std::string> env,
                          std::map<std::string, std::string> files) {
  secret_source s;
  s.getenv = [env](const std::string& n) -> std::optional<std::string> {
    auto it = env.find(n);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  s.read_file = [files](const std::string& p) -> std::optional<std::string> {
    auto it = files.find(p);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
  return s;
}

TEST(secret, never_prints_its_value) {
  const secret s("hunter2-very-secret");
  std::ostringstream out;
  out << s;
  EXPECT_EQ(out.str(), "<redacted>");
  EXPECT_EQ(to_string(s), "<redacted>");
  EXPECT_EQ(fmt::format("key={}", s), "key=<redacted>");
  EXPECT_EQ(fmt::format("{:>12}", s), "  <redacted>");
  EXPECT_EQ(s.reveal(), "hunter2-very-secret");
}

TEST(secret, copies_and_moves_keep_the_value_and_clear_the_source) {
  secret a("abc");
  secret b = a;
  EXPECT_EQ(b.reveal(), "abc");
  secret c = std::move(a);
  EXPECT_EQ(c.reveal(), "abc");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is wiped by contract
  b = secret("xyz");
  EXPECT_EQ(b.reveal(), "xyz");
}

TEST(secret, resolves_env_file_and_cred_references) {
  const auto src = fake_source({{"ALPACA_KEY", "AK1"}, {"CREDENTIALS_DIRECTORY", "/run/creds"}},
                               {{"/etc/as/key", "FILEKEY\n"}, {"/run/creds/alpaca", "CREDKEY\r\n"}});
  std::string error;
  EXPECT_EQ(resolve_secret("env:ALPACA_KEY", src, &error)->reveal(), "AK1");
  EXPECT_EQ(resolve_secret("file:/etc/as/key", src, &error)->reveal(), "FILEKEY");
  EXPECT_EQ(resolve_secret("cred:alpaca", src, &error)->reveal(), "CREDKEY");
  EXPECT_EQ(resolve_secret("plain-literal", src, &error)->reveal(), "plain-literal");
}

TEST(secret, resolution_errors_name_the_reference_not_the_value) {
  const auto src = fake_source({{"EMPTY", ""}}, {{"/blank", "\n"}});
  std::string error;
  EXPECT_FALSE(resolve_secret("env:MISSING", src, &error));
  EXPECT_NE(error.find("MISSING"), std::string::npos);
  EXPECT_FALSE(resolve_secret("env:EMPTY", src, &error));
  EXPECT_FALSE(resolve_secret("file:/nope", src, &error));
  EXPECT_NE(error.find("/nope"), std::string::npos);
  EXPECT_FALSE(resolve_secret("file:/blank", src, &error));
  EXPECT_NE(error.find("empty"), std::string::npos);
  EXPECT_FALSE(resolve_secret("cred:alpaca", src, &error));
  EXPECT_NE(error.find("CREDENTIALS_DIRECTORY"), std::string::npos);
  EXPECT_FALSE(resolve_secret("env:BAD NAME", src, &error));
}

TEST(secret, reference_syntax) {
  EXPECT_TRUE(is_secret_reference("env:X"));
  EXPECT_TRUE(is_secret_reference("cred:x"));
  EXPECT_FALSE(is_secret_reference("literal"));
  EXPECT_EQ(check_secret_reference("env:ALPACA_KEY"), "");
  EXPECT_EQ(check_secret_reference("file:/a/b"), "");
  EXPECT_EQ(check_secret_reference("literal"), "");
  EXPECT_NE(check_secret_reference("env:"), "");
  EXPECT_NE(check_secret_reference("file:"), "");
  EXPECT_NE(check_secret_reference("cred:a/b"), "");
  EXPECT_NE(check_secret_reference("cred:.."), "");
}

TEST(secret, urls_and_texts_are_redacted) {
  EXPECT_EQ(redact_query("wss://ws.finnhub.io/?token=abc", {"token"}),
            "wss://ws.finnhub.io/?token=<redacted>");
  EXPECT_EQ(redact_query("ws://h/p?a=1&token=abc&b=2", {"token"}),
            "ws://h/p?a=1&token=<redacted>&b=2");
  EXPECT_EQ(redact_query("ws://h/p", {"token"}), "ws://h/p");
  EXPECT_EQ(redact_query("ws://h/p?apiKey=zz", {"token", "apiKey"}), "ws://h/p?apiKey=<redacted>");
  const secret k("KEY123"), s("S3CR3T");
  EXPECT_EQ(scrub("auth failed for KEY123 with S3CR3T (KEY123)", {&k, &s}),
            "auth failed for <redacted> with <redacted> (<redacted>)");
  const secret empty;
  EXPECT_EQ(scrub("nothing", {&empty}), "nothing");
}

}  // namespace
}  // namespace aftershock::feeds
