// One keep-alive HTTP/1.1 connection for POSTing to a destination, over plain TCP or TLS with
// certificate verification always on (system trust store plus an optional CA file, SNI,
// host-name verification). Every request has a deadline covering resolve, connect, handshake,
// write and read. Network problems come back as values in http_response, never as exceptions.
// The only translation unit that includes Beast.
//
// Thread-safety: an http_client belongs to one strand (the executor it was made with); at most
// one send() may be in flight at a time.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "exporters/http_types.h"

namespace aftershock::exporters {

class http_client {
 public:
  struct options {
    std::string ca_file;  // PEM trust anchors added to the system store
    std::size_t max_response_body = 64u << 10;
  };

  http_client(boost::asio::any_io_executor executor, options opts);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Empty when the TLS context is usable; otherwise why not (e.g. an unreadable ca_file).
  const std::string& setup_error() const noexcept;

  /// POSTs `request` and reads the response, reusing the connection when it is still open.
  boost::asio::awaitable<http_response> send(const http_request& request,
                                             std::chrono::steady_clock::duration timeout);

  /// Drops the connection (cancels anything in flight on it).
  void close();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace aftershock::exporters
