// Text for chat platforms: UTF-8 decoding, lengths in each platform's own unit, escaping of
// untrusted text per markup dialect, safe link URLs, and a bounded builder that truncates at
// code-point boundaries without ever splitting an escape, a UTF-8 sequence or a surrogate pair.
// Pure functions and plain value types; thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aftershock::exporters {

/// How a platform counts the length of a text field.
enum class length_unit : std::uint8_t {
  bytes,        // UTF-8 bytes
  code_points,  // Unicode scalar values
  utf16,        // UTF-16 code units (Discord, Telegram): an emoji outside the BMP counts 2
  json_bytes,   // bytes once written inside a JSON string (Teams' body-size limit)
};

/// The markup a field is rendered in; decides how untrusted text is escaped.
enum class dialect : std::uint8_t {
  plain,             // no markup: control characters replaced (console, Alertmanager)
  slack_mrkdwn,      // & < > only, as Slack asks
  discord_markdown,  // backslash before markdown punctuation, < > too
  telegram_html,     // < > & and quotes
  teams_markdown,    // backslash before Adaptive Card markdown punctuation
};

inline constexpr char32_t k_replacement_char = 0xFFFD;
inline constexpr std::string_view k_ellipsis = "\xE2\x80\xA6";  // U+2026, one unit everywhere

/// Decodes the code point at s[i] and advances i. An invalid, overlong or truncated sequence
/// (or a UTF-8-encoded surrogate) decodes to U+FFFD and advances one byte.
char32_t decode_utf8(std::string_view s, std::size_t& i) noexcept;
void append_utf8(std::string& out, char32_t cp);

/// Length of one code point, or of a whole UTF-8 text, in `unit`.
std::size_t unit_length(char32_t cp, length_unit unit) noexcept;
std::size_t text_length(std::string_view text, length_unit unit) noexcept;

/// Escapes untrusted text for `d` with no length limit. Line breaks and other control
/// characters become spaces (untrusted text never adds structure), bidirectional overrides are
/// removed, and @everyone/@here/@channel get a word joiner after the '@' so they never ping.
std::string escape(std::string_view text, dialect d);

/// Cuts `text` to at most `max` units at a code-point boundary; when cut, the result ends with
/// an ellipsis that is counted inside `max`. Invalid UTF-8 becomes U+FFFD.
std::string truncate(std::string_view text, std::size_t max, length_unit unit);

/// Returns the URL normalised for use as a link target, or nullopt when it must not become a
/// link: only http and https with a host; characters outside a conservative set are
/// percent-encoded, so the result cannot close Slack's <url|label>, Markdown's (url) or an
/// HTML attribute early.
std::optional<std::string> safe_link_url(std::string_view url);

/// Percent-encodes everything except RFC 3986 unreserved characters (for URL template values).
std::string percent_encode(std::string_view text);

/// Text that must fit a platform limit. Trusted markup (`tag`) is appended whole or not at all;
/// untrusted text (`text`) is escaped and, when it does not fit, cut at a code-point boundary
/// with an ellipsis. Costs are counted in the platform's unit, either on what is sent
/// (`cost::sent`) or on what the reader sees (`cost::visible`, Telegram's "after entity parsing":
/// tags are free and &lt; counts as one character). Value type; not shared between threads.
class bounded_text {
 public:
  enum class cost : std::uint8_t { sent, visible };

  bounded_text(dialect d, length_unit unit, std::size_t limit, cost mode = cost::sent);

  /// Appends trusted markup if it fits (within the limit minus what is reserved).
  bool tag(std::string_view trusted);
  /// Appends escaped untrusted text, at most `cap` units of it; false if it was cut.
  bool text(std::string_view untrusted, std::size_t cap = static_cast<std::size_t>(-1));
  /// Appends a link if `url` is a safe http(s) URL and the whole link fits; otherwise the label
  /// as text. The label is untrusted and escaped.
  bool link(std::string_view url, std::string_view label,
            std::size_t label_cap = static_cast<std::size_t>(-1));

  /// Appends open + escaped untrusted text (at most `cap` units) + close, or nothing at all when
  /// not even a character would fit between them: a closing tag never appears without its
  /// opening one. False if the text was cut or skipped.
  bool styled(std::string_view open, std::string_view untrusted, std::string_view close,
              std::size_t cap = static_cast<std::size_t>(-1));

  /// Keeps `n` units free for closing markup appended later (release() before appending it).
  void reserve(std::size_t n) noexcept { reserved_ += n; }
  void release(std::size_t n) noexcept { reserved_ = n > reserved_ ? 0 : reserved_ - n; }

  std::size_t used() const noexcept { return used_; }
  std::size_t limit() const noexcept { return limit_; }
  std::size_t room() const noexcept;
  bool truncated() const noexcept { return truncated_; }
  bool empty() const noexcept { return out_.empty(); }
  const std::string& str() const noexcept { return out_; }
  std::string take() { return std::move(out_); }

  /// What `tag(s)` would cost.
  std::size_t tag_cost(std::string_view s) const noexcept;

 private:
  dialect dialect_;
  length_unit unit_;
  std::size_t limit_;
  cost mode_;
  std::size_t used_ = 0;
  std::size_t reserved_ = 0;
  bool truncated_ = false;
  std::string out_;
};

}  // namespace aftershock::exporters
