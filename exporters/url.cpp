#include "exporters/url.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace aftershock::exporters {

namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool starts_with_ci(std::string_view s, std::string_view prefix) noexcept {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

bool name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

}  // namespace

std::optional<parsed_url> parse_http_url(std::string_view url) {
  parsed_url out;
  std::size_t rest = 0;
  if (starts_with_ci(url, "https://")) {
    out.tls = true;
    rest = 8;
  } else if (starts_with_ci(url, "http://")) {
    rest = 7;
  } else {
    return std::nullopt;
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return std::nullopt;
  }
  std::size_t end = url.find_first_of("/?#", rest);
  if (end == std::string_view::npos) end = url.size();
  std::string_view authority = url.substr(rest, end - rest);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view port_text;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      out.host = std::string(authority.substr(0, colon));
      port_text = authority.substr(colon + 1);
    } else {
      out.host = std::string(authority);
    }
  }
  if (out.host.empty()) return std::nullopt;
  for (char& c : out.host) c = lower(c);
  out.port = out.tls ? 443 : 80;
  if (!port_text.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    if (ec != std::errc{} || p != port_text.data() + port_text.size() || v == 0 || v > 65535) {
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(v);
  }
  std::string_view target = url.substr(end);
  const std::size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);  // never sent
  if (target.empty() || target.front() != '/') {
    out.target = "/";
    out.target += target;
  } else {
    out.target = std::string(target);
  }
  return out;
}

std::string redact_url(std::string_view url) {
  const auto p = parse_http_url(url);
  if (!p) return "<redacted>";
  std::string out = p->tls ? "https://" : "http://";
  if (p->host.find(':') != std::string::npos) {
    out += '[' + p->host + ']';
  } else {
    out += p->host;
  }
  if (p->port != (p->tls ? 443 : 80)) out += ':' + std::to_string(p->port);
  out += "/\xE2\x80\xA6";  // "/…": the path may hold the token
  return out;
}

bool is_secret_ref(std::string_view value) noexcept {
  return value.rfind("env:", 0) == 0 || value.rfind("file:", 0) == 0 ||
         value.rfind("cred:", 0) == 0;
}

std::string check_secret_ref(std::string_view value) {
  if (!is_secret_ref(value)) return {};
  const std::size_t colon = value.find(':');
  const std::string_view kind = value.substr(0, colon);
  const std::string_view name = value.substr(colon + 1);
  if (name.empty()) return std::string(kind) + ": needs a name after the colon";
  if (kind == "file") return {};
  for (char c : name) {
    if (!name_char(c)) {
      return std::string(kind) + ":" + std::string(name) +
             " is not a valid name (letters, digits, _ . - only)";
    }
  }
  return {};
}

std::optional<std::string> resolve_secret(std::string_view value, std::string* error) {
  if (!is_secret_ref(value)) return std::string(value);
  if (std::string problem = check_secret_ref(value); !problem.empty()) {
    if (error) *error = problem;
    return std::nullopt;
  }
  const std::size_t colon = value.find(':');
  const std::string kind(value.substr(0, colon));
  const std::string name(value.substr(colon + 1));
  std::string path;
  if (kind == "env") {
    const char* v = std::getenv(name.c_str());
    if (!v || !*v) {
      if (error) *error = "environment variable " + name + " is not set";
      return std::nullopt;
    }
    return std::string(v);
  }
  if (kind == "file") {
    path = name;
  } else {
    // systemd's LoadCredential= puts credentials in $CREDENTIALS_DIRECTORY.
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (!dir || !*dir) {
      if (error)
        *error = "cred:" + name + " needs $CREDENTIALS_DIRECTORY (systemd LoadCredential=)";
      return std::nullopt;
    }
    path = std::string(dir) + "/" + name;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error) *error = "cannot read secret file " + path;
    return std::nullopt;
  }
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = std::move(s).str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) {
    if (error) *error = "secret file " + path + " is empty";
    return std::nullopt;
  }
  return text;
}

}  // namespace aftershock::exporters
