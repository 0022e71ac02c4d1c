#include "tests/support/fixtures.h"

#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>

namespace aftershock::test {

std::string support_dir() { return AFTERSHOCK_TEST_SUPPORT_DIR; }

std::unique_ptr<feedsim_process> feedsim_process::start(const std::string& binary,
                                                        const std::vector<std::string>& args,
                                                        std::string* error,
                                                        std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{binary};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string why;
  auto process = child_process::start(argv, child_process::options{}, &why);
  if (!process) {
    if (error) *error = why;
    return nullptr;
  }
  const auto line = process->read_line(timeout);
  constexpr std::string_view prefix = "listening ";
  if (!line || line->rfind(prefix, 0) != 0) {
    if (error) {
      *error = "aftershock-feedsim did not report its address";
      if (auto status = process->wait_exit(1s)) *error += " (exit " + std::to_string(*status) + ")";
      if (line) *error += ": " + *line;
    }
    return nullptr;
  }
  const std::string address = line->substr(prefix.size());
  const auto colon = address.rfind(':');
  std::unique_ptr<feedsim_process> f(new feedsim_process());
  f->process_ = std::move(process);
  f->host_ = address.substr(0, colon);
  f->port_ = static_cast<unsigned short>(std::stoi(address.substr(colon + 1)));
  return f;
}

std::unique_ptr<websocketd_server> websocketd_server::start(
    const std::vector<std::string>& command, std::string* error,
    std::chrono::milliseconds timeout) {
  const std::string binary = find_program("websocketd");
  if (binary.empty()) {
    if (error) *error = "websocketd is not installed (scripts/setup installs it)";
    return nullptr;
  }
  // websocketd cannot report a port it chose, so pick a free one; retry if another process
  // took it in between.
  std::string why;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const unsigned short port = free_port();
    std::vector<std::string> argv{binary, "--address=127.0.0.1", "--port=" + std::to_string(port),
                                  "--loglevel=error"};
    argv.insert(argv.end(), command.begin(), command.end());
    child_process::options opt;
    opt.capture_stdout = false;
    auto process = child_process::start(argv, opt, &why);
    if (!process) break;
    if (wait_for_port(port, timeout) && process->running()) {
      std::unique_ptr<websocketd_server> s(new websocketd_server());
      s->process_ = std::move(process);
      s->port_ = port;
      return s;
    }
    why = "websocketd did not start listening on port " + std::to_string(port);
  }
  if (error) *error = why;
  return nullptr;
}

std::optional<test_certs> make_test_certs(const std::string& dir, std::string* error) {
  std::string output;
  const auto status =
      run_program({"/bin/bash", support_dir() + "/make-test-certs.sh", dir}, 30s, &output);
  if (!status || *status != 0) {
    if (error) *error = "make-test-certs.sh failed: " + output;
    return std::nullopt;
  }
  test_certs c;
  c.ca_cert = dir + "/ca.pem";
  c.server_cert = dir + "/server.pem";
  c.server_key = dir + "/server.key";
  c.self_signed_cert = dir + "/self-signed.pem";
  c.self_signed_key = dir + "/self-signed.key";
  return c;
}

std::unique_ptr<nginx_tls_proxy> nginx_tls_proxy::start(unsigned short upstream_port,
                                                        const test_certs& certs,
                                                        std::string* error,
                                                        std::chrono::milliseconds timeout) {
  const std::string binary = find_program("nginx");
  if (binary.empty()) {
    if (error) *error = "nginx is not installed (scripts/setup installs it)";
    return nullptr;
  }
  std::unique_ptr<nginx_tls_proxy> proxy(new nginx_tls_proxy());
  const std::string dir = proxy->dir_.path();
  std::string why;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const unsigned short port = free_port();
    std::ostringstream conf;
    // The worker user only matters (and is only allowed) when nginx starts as root.
    if (::geteuid() == 0) conf << "user root;\n";
    conf << "daemon off;\n"
         << "worker_processes 1;\n"
         << "pid " << dir << "/nginx.pid;\n"
         << "error_log " << dir << "/error.log warn;\n"
         << "events { worker_connections 64; }\n"
         << "http {\n"
         << "  access_log off;\n"
         << "  client_body_temp_path " << dir << "/client_body;\n"
         << "  proxy_temp_path " << dir << "/proxy;\n"
         << "  fastcgi_temp_path " << dir << "/fastcgi;\n"
         << "  uwsgi_temp_path " << dir << "/uwsgi;\n"
         << "  scgi_temp_path " << dir << "/scgi;\n"
         << "  map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n"
         << "  server {\n"
         << "    listen 127.0.0.1:" << port << " ssl;\n"
         << "    ssl_certificate " << certs.server_cert << ";\n"
         << "    ssl_certificate_key " << certs.server_key << ";\n"
         << "    location / {\n"
         << "      proxy_pass http://127.0.0.1:" << upstream_port << ";\n"
         << "      proxy_http_version 1.1;\n"
         << "      proxy_set_header Upgrade $http_upgrade;\n"
         << "      proxy_set_header Connection $connection_upgrade;\n"
         << "      proxy_set_header Host $host;\n"
         << "      proxy_read_timeout 1h;\n"
         << "      proxy_buffering off;\n"
         << "    }\n"
         << "  }\n"
         << "}\n";
    const std::string conf_path = dir + "/nginx.conf";
    if (!write_file(conf_path, conf.str())) {
      why = "cannot write " + conf_path;
      break;
    }
    child_process::options opt;
    opt.capture_stdout = false;
    // -e: nginx opens its default error log before reading the config; point it here too.
    auto process = child_process::start(
        {binary, "-p", dir, "-c", conf_path, "-e", dir + "/error.log"}, opt, &why);
    if (!process) break;
    if (wait_for_port(port, timeout) && process->running()) {
      proxy->process_ = std::move(process);
      proxy->port_ = port;
      return proxy;
    }
    process->stop(2s);
    why = "nginx did not start listening on port " + std::to_string(port) + ": " +
          proxy->error_log();
  }
  if (error) *error = why;
  return nullptr;
}

nginx_tls_proxy::~nginx_tls_proxy() {
  // SIGQUIT is nginx's graceful stop; the child_process destructor escalates if needed.
  if (process_) {
    process_->send_signal(SIGQUIT);
    if (!process_->wait_exit(5s)) process_->stop(1s);
  }
}

std::string nginx_tls_proxy::error_log() const {
  std::ifstream in(dir_.file("error.log"));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace aftershock::test
