// Feed credentials: a value type whose text is reachable only through reveal(), so every way of
// printing it (ostream, fmt/spdlog, to_string) gives "<redacted>" and a key cannot reach a log
// line, an error message or a metric by accident; plus resolving the config's references
// (env:NAME, file:PATH, cred:NAME) and scrubbing URLs and texts before they are logged.
// Values and pure functions; thread-safe. resolve_secret reads the environment and files only
// through the secret_source it is given.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace aftershock::feeds {

class secret {
 public:
  secret() = default;
  explicit secret(std::string value) : value_(std::move(value)) {}
  secret(const secret&) = default;
  secret& operator=(const secret& other);
  secret(secret&& other) noexcept;
  secret& operator=(secret&& other) noexcept;
  ~secret();  // overwrites the text before the memory is released

  /// The credential itself. Call only where it goes on the wire (auth message, URL query).
  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }

  /// Always "<redacted>".
  static constexpr std::string_view k_redacted = "<redacted>";

 private:
  void wipe() noexcept;
  std::string value_;
};

/// "<redacted>", whatever the secret holds.
std::string to_string(const secret& s);
std::ostream& operator<<(std::ostream& out, const secret& s);

/// Where references are resolved from; tests inject maps instead of the process environment.
struct secret_source {
  std::function<std::optional<std::string>(const std::string& name)> getenv;
  std::function<std::optional<std::string>(const std::string& path)> read_file;
};

/// The process environment and the file system ($CREDENTIALS_DIRECTORY for cred:NAME).
secret_source system_secret_source();

/// True for env:NAME, file:PATH and cred:NAME.
bool is_secret_reference(std::string_view value) noexcept;

/// Checks a reference's syntax (NAME is [A-Za-z0-9_.-]+, PATH non-empty). Empty when fine,
/// otherwise why not. A literal (no known prefix) is fine here; callers warn about it.
std::string check_secret_reference(std::string_view value);

/// Resolves a reference, or takes a literal as it is. Files lose trailing CR/LF (editors and
/// `echo` add them; systemd credentials usually have none). On failure returns nullopt and says
/// why in `error`, naming the reference, never the secret.
std::optional<secret> resolve_secret(std::string_view reference, const secret_source& source,
                                     std::string* error);

/// Replaces the value of each query parameter named in `params` with "<redacted>":
/// "wss://ws.finnhub.io/?token=abc" -> "wss://ws.finnhub.io/?token=<redacted>".
std::string redact_query(std::string_view url, std::initializer_list<std::string_view> params);

/// Replaces every occurrence of each non-empty secret's text in `text` with "<redacted>": a last
/// line of defence for vendor error texts and exception messages that might echo a key.
std::string scrub(std::string text, std::initializer_list<const secret*> secrets);

}  // namespace aftershock::feeds

/// spdlog and fmt print a secret as "<redacted>" too.
template <>
struct fmt::formatter<aftershock::feeds::secret> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const aftershock::feeds::secret&, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(aftershock::feeds::secret::k_redacted, ctx);
  }
};
