// Interoperability with servers nobody here wrote: websocketd serving frames, and nginx
// terminating TLS (with a test CA) in front of aftershock-feedsim. A plain Beast client gets
// frames through each, using the reusable fixtures in tests/support (the daemon's feed tests
// use the same ones). Skipped, not failed, when websocketd or nginx is not installed.
#include <gtest/gtest.h>

#include "tests/support/fixtures.h"
#include "tests/support/ws_test_client.h"

namespace aftershock::test {
namespace {

using namespace std::chrono_literals;

const std::string k_binary = std::string(AFTERSHOCK_BIN_DIR) + "/aftershock-feedsim";
const std::string k_capture = std::string(AFTERSHOCK_TEST_DATA_DIR) + "/feedsim/small.ndjson";

TEST(Interop, WebsocketdServesEachLineAsAFrame) {
  if (find_program("websocketd").empty()) GTEST_SKIP() << "websocketd not installed (scripts/setup)";
  temp_dir dir;
  const std::vector<std::string> lines = {
      R"({"type":"news","id":"w-1","published_at":"2025-01-27T14:30:00Z","headline":"one","body":"","symbols":[],"lang":"en","source":"websocketd"})",
      R"({"type":"trade","symbol":"NVDA","price":118.42,"size":100,"ts":"2025-01-27T14:30:01.000Z"})",
      R"({"type":"news","id":"w-2","published_at":"2025-01-27T14:30:02Z","headline":"两个","body":"","symbols":[],"lang":"zh","source":"websocketd"})"};
  std::string file;
  for (const auto& l : lines) file += l + "\n";
  ASSERT_TRUE(write_file(dir.file("frames.ndjson"), file));

  std::string error;
  auto server = websocketd_server::start({"/bin/cat", dir.file("frames.ndjson")}, &error);
  ASSERT_TRUE(server) << error;
  auto c = ws_test_client::connect("127.0.0.1", server->port(), "/", {}, &error);
  ASSERT_TRUE(c) << error;
  for (const auto& expected : lines) {
    auto m = c->receive(5s);
    ASSERT_TRUE(m) << c->end_reason();
    EXPECT_FALSE(m->binary);
    EXPECT_EQ(m->data, expected);
  }
  // cat is done: websocketd ends the connection.
  EXPECT_TRUE(c->wait_closed(5s));
}

TEST(Interop, NginxTerminatesTlsInFrontOfFeedsim) {
  if (find_program("nginx").empty()) GTEST_SKIP() << "nginx not installed (scripts/setup)";
  temp_dir dir;
  std::string error;
  auto certs = make_test_certs(dir.path(), &error);
  ASSERT_TRUE(certs) << error;
  auto sim = feedsim_process::start(
      k_binary,
      {"--listen", "127.0.0.1:0", "--speed", "max", "--exit-when-done", "--start-timeout", "30s",
       k_capture},
      &error);
  ASSERT_TRUE(sim) << error;
  auto proxy = nginx_tls_proxy::start(sim->port(), *certs, &error);
  ASSERT_TRUE(proxy) << error;

  ws_client_options opt;
  opt.tls = true;
  opt.ca_file = certs->ca_cert;  // full verification: chain to the test CA, name 127.0.0.1
  auto c = ws_test_client::connect("127.0.0.1", proxy->port(), "/v2/iex", opt, &error);
  ASSERT_TRUE(c) << error << "\nnginx: " << proxy->error_log();
  auto text = [&] {
    auto m = c->receive(5s);
    return m ? m->data : "<nothing: " + c->end_reason() + ">";
  };
  EXPECT_EQ(text(), R"([{"T":"success","msg":"connected"}])");
  ASSERT_TRUE(c->send_text(R"({"action":"auth","key":"key","secret":"secret"})"));
  EXPECT_EQ(text(), R"([{"T":"success","msg":"authenticated"}])");
  ASSERT_TRUE(c->send_text(R"({"action":"subscribe","trades":["NVDA"]})"));
  EXPECT_EQ(text().rfind(R"([{"T":"subscription")", 0), 0u);
  EXPECT_NE(text().find(R"("i":1,)"), std::string::npos);
  EXPECT_NE(text().find(R"("i":3,)"), std::string::npos);
  EXPECT_TRUE(c->wait_closed(10s));
  EXPECT_EQ(c->close_code(), 1001);  // feedsim's close frame came through nginx
  EXPECT_EQ(sim->wait_exit(10s), 0);
}

TEST(Interop, NginxRefusesAClientThatDoesNotTrustTheCa) {
  if (find_program("nginx").empty()) GTEST_SKIP() << "nginx not installed (scripts/setup)";
  temp_dir dir, other;
  std::string error;
  auto certs = make_test_certs(dir.path(), &error);
  ASSERT_TRUE(certs) << error;
  auto foreign = make_test_certs(other.path(), &error);  // a different CA
  ASSERT_TRUE(foreign) << error;
  auto sim = feedsim_process::start(
      k_binary, {"--listen", "127.0.0.1:0", "--start-timeout", "30s", k_capture}, &error);
  ASSERT_TRUE(sim) << error;
  auto proxy = nginx_tls_proxy::start(sim->port(), *certs, &error);
  ASSERT_TRUE(proxy) << error;
  ws_client_options opt;
  opt.tls = true;
  opt.ca_file = foreign->ca_cert;
  EXPECT_FALSE(ws_test_client::connect("127.0.0.1", proxy->port(), "/v2/iex", opt, &error));
  EXPECT_NE(error.find("TLS handshake"), std::string::npos) << error;
}

}  // namespace
}  // namespace aftershock::test
