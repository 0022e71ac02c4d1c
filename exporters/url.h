// URLs and secrets for destinations: parsing an http(s) URL into what a client connects to,
// resolving secret references (env:NAME, file:PATH, cred:NAME) and redacting URLs for logs,
// because webhook URLs and bot tokens are bearer credentials. Pure functions except
// resolve_secret, which reads the environment and files; all thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aftershock::exporters {

struct parsed_url {
  bool tls = false;  // https
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 0;
  std::string target;  // path and query, at least "/"
};

/// Parses http://host[:port]/path?query and https://...; nullopt for anything else (userinfo,
/// other schemes, bad ports, whitespace).
std::optional<parsed_url> parse_http_url(std::string_view url);

/// "https://hooks.slack.com/…": scheme, host and port only, never the path or query where
/// webhook tokens live. Anything unparsable becomes "<redacted>".
std::string redact_url(std::string_view url);

/// True for env:NAME, file:PATH and cred:NAME references.
bool is_secret_ref(std::string_view value) noexcept;

/// Checks the syntax of a reference (names are [A-Za-z0-9_.-], paths non-empty); empty string
/// when fine, otherwise why not.
std::string check_secret_ref(std::string_view value);

/// Resolves a reference (or returns a literal unchanged). Trailing newlines of files are
/// dropped. On failure returns nullopt and says why in `error` (never including the secret).
std::optional<std::string> resolve_secret(std::string_view value, std::string* error);

}  // namespace aftershock::exporters
