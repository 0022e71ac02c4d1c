// Reusable test fixtures around real servers on 127.0.0.1, for integration tests of WebSocket
// clients (the simulator's own tests and the daemon's feed sessions):
//   feedsim_process   aftershock-feedsim on port 0, its bound port read from its first line
//   websocketd_server websocketd on a free port, running a command per connection (each line
//                     the command prints becomes a text frame)
//   nginx_tls_proxy   nginx terminating TLS with a test CA's certificate and proxying WebSocket
//                     upgrades to a plain upstream on 127.0.0.1
//   make_test_certs   a throwaway CA, a server certificate it signed for 127.0.0.1/localhost, and
//                     a self-signed certificate (tests/support/make-test-certs.sh, openssl)
// Each start() waits for readiness within a deadline and returns nullptr with a reason on
// failure; destructors stop the process and remove temporary files.
//
// Thread-safety: one object per thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.h"

namespace aftershock::test {

class feedsim_process {
 public:
  /// Runs `binary` with `args` (add "--listen", "127.0.0.1:0" yourself or rely on the default)
  /// and reads "listening HOST:PORT" from its stdout.
  static std::unique_ptr<feedsim_process> start(const std::string& binary,
                                                const std::vector<std::string>& args,
                                                std::string* error = nullptr,
                                                std::chrono::milliseconds timeout = 10s);
  unsigned short port() const noexcept { return port_; }
  const std::string& host() const noexcept { return host_; }
  child_process& process() noexcept { return *process_; }
  /// The exit status once it ends by itself (--exit-when-done).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = 10s) {
    return process_->wait_exit(timeout);
  }

 private:
  std::unique_ptr<child_process> process_;
  std::string host_;
  unsigned short port_ = 0;
};

class websocketd_server {
 public:
  /// websocketd --address=127.0.0.1 --port=<free> <command...>. Empty binary: found in PATH.
  static std::unique_ptr<websocketd_server> start(const std::vector<std::string>& command,
                                                  std::string* error = nullptr,
                                                  std::chrono::milliseconds timeout = 10s);
  unsigned short port() const noexcept { return port_; }

 private:
  std::unique_ptr<child_process> process_;
  unsigned short port_ = 0;
};

struct test_certs {
  std::string ca_cert;           // the CA to trust
  std::string server_cert;       // signed by the CA, for 127.0.0.1 and localhost
  std::string server_key;
  std::string self_signed_cert;  // its own issuer, for 127.0.0.1 and localhost
  std::string self_signed_key;
};

/// Makes fresh certificates in `dir` with tests/support/make-test-certs.sh.
std::optional<test_certs> make_test_certs(const std::string& dir, std::string* error = nullptr);

class nginx_tls_proxy {
 public:
  /// nginx with its own config under a temporary directory (daemon off, pid and temp paths
  /// there), listening with TLS on 127.0.0.1:<free port> and proxying to
  /// http://127.0.0.1:upstream_port with the WebSocket upgrade headers.
  static std::unique_ptr<nginx_tls_proxy> start(unsigned short upstream_port,
                                                const test_certs& certs,
                                                std::string* error = nullptr,
                                                std::chrono::milliseconds timeout = 10s);
  ~nginx_tls_proxy();
  unsigned short port() const noexcept { return port_; }
  /// nginx's error log, for failure messages.
  std::string error_log() const;

 private:
  temp_dir dir_;
  std::unique_ptr<child_process> process_;
  unsigned short port_ = 0;
};

/// Where the support scripts live (tests/support in the source tree).
std::string support_dir();

}  // namespace aftershock::test
