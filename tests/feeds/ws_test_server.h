// A scripted WebSocket server for integration tests: listens on 127.0.0.1 port 0 (plain, or
// TLS with a self-signed certificate made in memory for 127.0.0.1/localhost), and runs a
// test-provided script for every connection on a thread of its own. The script talks through
// blocking calls that all take a timeout, so no test can hang; the server's destructor ends
// every connection and joins every thread. Beast lives in ws_test_server.cpp only.
//
// Thread-safety: ws_test_connection methods may be called from its script thread and from the
// test thread; ws_test_server methods from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace aftershock::test {

using namespace std::chrono_literals;

class ws_test_connection {
 public:
  virtual ~ws_test_connection() = default;
  /// 0 for the first connection the server accepted, 1 for the next ...
  virtual std::size_t index() const = 0;
  /// The upgrade request's target: path and query ("/v2/iex", "/?token=...").
  virtual const std::string& target() const = 0;
  /// The next text message from the client; nullopt on timeout or once the client is gone.
  virtual std::optional<std::string> receive(std::chrono::milliseconds timeout = 5s) = 0;
  /// Queues a text message (written in order). False if the connection is gone.
  virtual bool send(std::string text) = 0;
  /// Sends a WebSocket ping; pongs() counts the client's answers.
  virtual bool ping() = 0;
  virtual std::size_t pongs() const = 0;
  /// Waits until at least `n` pongs arrived. False on timeout or when gone.
  virtual bool wait_pongs(std::size_t n, std::chrono::milliseconds timeout = 5s) = 0;
  /// Closing handshake with `code`, or an abrupt TCP close (no close frame).
  virtual void close(int code = 1000) = 0;
  virtual void drop() = 0;
  /// Waits until the client is gone (closed, dropped or the server stopping).
  virtual bool wait_gone(std::chrono::milliseconds timeout = 5s) = 0;
  virtual bool gone() const = 0;
  /// The close code the client sent (0 if none).
  virtual int client_close_code() const = 0;
  /// steady_clock times of the upgrade and of the end, for ordering assertions.
  virtual std::chrono::steady_clock::time_point opened_at() const = 0;
  virtual std::chrono::steady_clock::time_point gone_at() const = 0;
};

struct ws_test_server_options {
  bool tls = false;
  bool deflate = false;  // accept permessage-deflate offers
};

class ws_test_server {
 public:
  using script = std::function<void(ws_test_connection&)>;

  /// Starts listening at once. `run` is called for every accepted WebSocket connection.
  explicit ws_test_server(script run, ws_test_server_options options = {});
  ~ws_test_server();
  ws_test_server(const ws_test_server&) = delete;
  ws_test_server& operator=(const ws_test_server&) = delete;

  unsigned short port() const;
  /// "ws://127.0.0.1:PORT" + path (wss:// with TLS).
  std::string url(std::string_view path) const;
  /// TLS: a PEM file holding the self-signed certificate, for a client's ca_file.
  const std::string& ca_file() const;

  /// Refuse upgrades with this HTTP status (401, 429 ...) instead of running the script;
  /// 0 accepts again.
  void refuse_with(int http_status);

  /// Connection attempts that reached the HTTP upgrade (accepted or refused).
  std::size_t upgrades() const;
  /// WebSocket connections accepted (scripts started).
  std::size_t connections() const;
  bool wait_connections(std::size_t n, std::chrono::milliseconds timeout = 5s) const;
  bool wait_upgrades(std::size_t n, std::chrono::milliseconds timeout = 5s) const;
  /// The n-th accepted connection (valid until the server is destroyed), or nullptr.
  ws_test_connection* connection(std::size_t n) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace aftershock::test
