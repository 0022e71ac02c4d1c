// A small blocking WebSocket client for integration tests (plain or TLS, with or without
// certificate verification, extra handshake headers such as Content-Type: application/msgpack).
// Every call takes a deadline: it runs the client's own io_context until the operation
// completes or the time is up, so no test can hang. A receive that times out leaves its read
// pending and the next receive picks it up, so no message is lost. Beast lives in
// ws_test_client.cpp only.
//
// Thread-safety: one object per thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aftershock::test {

using namespace std::chrono_literals;

struct ws_client_options {
  bool tls = false;
  /// TLS: verify the server's chain against this CA file and its name against `server_name`
  /// (default: the host). Empty: no verification (self-signed test servers).
  std::string ca_file;
  std::string server_name;
  std::vector<std::pair<std::string, std::string>> headers;  // added to the upgrade request
  std::size_t read_message_max = 64u << 20;
  std::chrono::milliseconds timeout = 5s;  // connect and handshakes
  bool deflate = false;                    // offer permessage-deflate
};

struct ws_message {
  std::string data;
  bool binary = false;
};

class ws_test_client {
 public:
  /// Connects and completes the upgrade. nullptr with `error` on failure; `http_status`
  /// receives the status of a refused upgrade (404, 401 ...).
  static std::unique_ptr<ws_test_client> connect(const std::string& host, unsigned short port,
                                                 const std::string& target,
                                                 const ws_client_options& options = {},
                                                 std::string* error = nullptr,
                                                 int* http_status = nullptr);
  ~ws_test_client();
  ws_test_client(const ws_test_client&) = delete;
  ws_test_client& operator=(const ws_test_client&) = delete;

  bool send_text(std::string_view text, std::chrono::milliseconds timeout = 5s);
  bool send_binary(std::string_view bytes, std::chrono::milliseconds timeout = 5s);
  /// The next message; nullopt on timeout or once the connection has ended (see closed()).
  std::optional<ws_message> receive(std::chrono::milliseconds timeout = 5s);
  /// Reads (and discards) until the server ends the connection; false at the deadline.
  bool wait_closed(std::chrono::milliseconds timeout = 5s, std::size_t* messages = nullptr);
  /// Closing handshake from our side.
  void close(std::chrono::milliseconds timeout = 2s);

  /// The connection ended (close frame, error or EOF).
  bool closed() const;
  /// The close code the server sent (0 if it sent none, e.g. a cut connection).
  int close_code() const;
  std::string close_reason() const;
  /// Why the connection ended ("closed", "end of stream", "connection reset" ...).
  std::string end_reason() const;
  /// WebSocket pings received from the server (answered automatically).
  std::size_t pings() const;

 private:
  struct impl;
  explicit ws_test_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace aftershock::test
