#include "feeds/secret.h"

#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>

namespace aftershock::feeds {

secret& secret::operator=(const secret& other) {
  if (this != &other) {
    wipe();
    value_ = other.value_;
  }
  return *this;
}

secret::secret(secret&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }

secret& secret::operator=(secret&& other) noexcept {
  if (this != &other) {
    wipe();
    value_ = std::move(other.value_);
    other.wipe();
  }
  return *this;
}

secret::~secret() { wipe(); }

void secret::wipe() noexcept {
  // Through a volatile pointer so the stores are not elided as dead. Short strings live inside
  // the object (SSO) and would otherwise linger in freed stack or heap memory.
  volatile char* p = value_.data();
  for (std::size_t i = 0; i < value_.size(); ++i) p[i] = 0;
  value_.clear();
}

std::string to_string(const secret&) { return std::string(secret::k_redacted); }

std::ostream& operator<<(std::ostream& out, const secret&) { return out << secret::k_redacted; }

secret_source system_secret_source() {
  secret_source s;
  s.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  s.read_file = [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return std::move(text).str();
  };
  return s;
}

namespace {

bool valid_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool is_secret_reference(std::string_view value) noexcept {
  return value.starts_with("env:") || value.starts_with("file:") || value.starts_with("cred:");
}

std::string check_secret_reference(std::string_view value) {
  if (!is_secret_reference(value)) return {};
  const std::size_t colon = value.find(':');
  const std::string_view kind = value.substr(0, colon);
  const std::string_view rest = value.substr(colon + 1);
  if (kind == "file") {
    if (rest.empty()) return "file: needs a path (file:/etc/aftershock/alpaca.key)";
    return {};
  }
  if (!valid_name(rest)) {
    return std::string(kind) + ": needs a name of letters, digits, '_', '.' or '-' (" +
           std::string(kind) + ":ALPACA_KEY)";
  }
  if (kind == "cred" && rest.find("..") != std::string_view::npos) {
    return "cred: names a file inside $CREDENTIALS_DIRECTORY; '..' is not allowed";
  }
  return {};
}

std::optional<secret> resolve_secret(std::string_view reference, const secret_source& source,
                                     std::string* error) {
  auto fail = [&](std::string why) -> std::optional<secret> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (!is_secret_reference(reference)) return secret(std::string(reference));
  if (std::string problem = check_secret_reference(reference); !problem.empty()) {
    return fail(std::move(problem));
  }
  const std::size_t colon = reference.find(':');
  const std::string kind(reference.substr(0, colon));
  const std::string name(reference.substr(colon + 1));
  if (kind == "env") {
    std::optional<std::string> v = source.getenv ? source.getenv(name) : std::nullopt;
    if (!v || v->empty()) return fail("environment variable " + name + " is not set (" + kind + ":" + name + ")");
    return secret(std::move(*v));
  }
  std::string path = name;
  if (kind == "cred") {
    // systemd's LoadCredential=/SetCredential= put credentials in $CREDENTIALS_DIRECTORY.
    std::optional<std::string> dir =
        source.getenv ? source.getenv("CREDENTIALS_DIRECTORY") : std::nullopt;
    if (!dir || dir->empty()) {
      return fail("cred:" + name + " needs $CREDENTIALS_DIRECTORY (systemd LoadCredential=)");
    }
    path = *dir + "/" + name;
  }
  std::optional<std::string> text = source.read_file ? source.read_file(path) : std::nullopt;
  if (!text) return fail("cannot read the secret file " + path + " (" + kind + ":" + name + ")");
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
  if (text->empty()) return fail("the secret file " + path + " is empty");
  secret s(std::move(*text));
  return s;
}

std::string redact_query(std::string_view url, std::initializer_list<std::string_view> params) {
  const std::size_t q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, q + 1));
  std::string_view query = url.substr(q + 1);
  std::string_view fragment;
  if (const std::size_t hash = query.find('#'); hash != std::string_view::npos) {
    fragment = query.substr(hash);
    query = query.substr(0, hash);
  }
  bool first = true;
  while (true) {
    const std::size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    const std::size_t eq = part.find('=');
    const std::string_view key = part.substr(0, eq);
    if (!first) out += '&';
    first = false;
    bool hide = false;
    for (std::string_view p : params) hide = hide || key == p;
    if (hide) {
      out += key;
      out += '=';
      out += secret::k_redacted;
    } else {
      out += part;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  out += fragment;
  return out;
}

std::string scrub(std::string text, std::initializer_list<const secret*> secrets) {
  for (const secret* s : secrets) {
    if (s == nullptr || s->empty()) continue;
    const std::string& needle = s->reveal();
    std::size_t pos = 0;
    while ((pos = text.find(needle, pos)) != std::string::npos) {
      text.replace(pos, needle.size(), secret::k_redacted);
      pos += secret::k_redacted.size();
    }
  }
  return text;
}

}  // namespace aftershock::feeds
