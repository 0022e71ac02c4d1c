// Measures how fast aftershock-feedsim serves one client over loopback at --speed max: starts
// it on 127.0.0.1:0 with a capture, logs in to the Alpaca stocks endpoint with a wildcard
// subscription, and counts frames until the server closes. Not a test (ctest does not run it):
//
//   cmake --build build --target feedsim_throughput
//   aftershock-feedsim generate --symbols 5000 --events 10000000 --per-frame 1..10 --out big.ndjson
//   build/bin/feedsim_throughput big.ndjson [--msgpack]
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include "tests/support/fixtures.h"
#include "tests/support/ws_test_client.h"

using namespace aftershock::test;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: feedsim_throughput CAPTURE [--msgpack]\n");
    return 2;
  }
  const std::string capture = argv[1];
  const bool msgpack = argc > 2 && std::string_view(argv[2]) == "--msgpack";
  std::string error;
  auto sim = feedsim_process::start(
      std::string(AFTERSHOCK_BIN_DIR) + "/aftershock-feedsim",
      {"--listen", "127.0.0.1:0", "--speed", "max", "--exit-when-done", "--log-level", "warn",
       "--start-timeout", "120s", capture},
      &error, 600s);  // a large capture takes a while to load
  if (!sim) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  ws_client_options opt;
  if (msgpack) opt.headers = {{"Content-Type", "application/msgpack"}};
  auto c = ws_test_client::connect("127.0.0.1", sim->port(), "/v2/iex", opt, &error);
  if (!c) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  // Login in JSON; in msgpack mode the server answers in msgpack, which we only count.
  c->receive(5s);
  if (msgpack) {
    // {"action":"auth","key":"k","secret":"s"} and the subscribe, pre-encoded.
    const std::string auth =
        "\x83\xa6" "action" "\xa4" "auth" "\xa3" "key" "\xa1" "k" "\xa6" "secret" "\xa1" "s";
    const std::string sub = "\x84\xa6" "action" "\xa9" "subscribe" "\xa6" "trades" "\x91\xa1*"
                            "\xa6" "quotes" "\x91\xa1*" "\xa4" "bars" "\x91\xa1*";
    c->send_binary(auth);
    c->receive(5s);
    c->send_binary(sub);
  } else {
    c->send_text(R"({"action":"auth","key":"k","secret":"s"})");
    c->receive(5s);
    c->send_text(R"({"action":"subscribe","trades":["*"],"quotes":["*"],"bars":["*"]})");
  }
  c->receive(5s);  // the ack

  const auto began = std::chrono::steady_clock::now();
  std::size_t frames = 0, bytes = 0;
  while (!c->closed()) {
    auto m = c->receive(30s);
    if (!m) break;
    ++frames;
    bytes += m->data.size();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  const auto status = sim->wait_exit(30s);
  std::printf("%s: %zu frames, %.1f MB in %.2f s: %.0f frames/s, %.1f MB/s (feedsim exit %d)\n",
              msgpack ? "msgpack" : "json", frames, static_cast<double>(bytes) / 1e6, secs,
              static_cast<double>(frames) / secs, static_cast<double>(bytes) / 1e6 / secs,
              status.value_or(-1));
  return status == 0 ? 0 : 1;
}
