#include "exporters/text.h"

#include <algorithm>
#include <array>

namespace aftershock::exporters {

namespace {

bool is_control(char32_t cp) noexcept {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

// Bidirectional embeddings, overrides and isolates can make a headline display as something
// else ("Trojan Source"); they carry no meaning we need, so untrusted text loses them.
bool is_bidi_control(char32_t cp) noexcept {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

bool ascii_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// True when text[at..] starts a broadcast mention word (after an '@'): everyone, here, channel.
bool mention_word_at(std::string_view text, std::size_t at) noexcept {
  static constexpr std::array<std::string_view, 3> k_words{"everyone", "here", "channel"};
  for (std::string_view w : k_words) {
    if (text.size() - at < w.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < w.size() && same; ++k) same = ascii_lower(text[at + k]) == w[k];
    if (!same) continue;
    const std::size_t end = at + w.size();
    if (end == text.size() || !ascii_alnum(text[end])) return true;
  }
  return false;
}

constexpr std::string_view k_word_joiner = "\xE2\x81\xA0";  // U+2060: invisible, breaks the token

std::size_t json_units(char32_t cp) noexcept {
  if (cp == '"' || cp == '\\') return 2;
  if (cp == '\n' || cp == '\r' || cp == '\t') return 2;
  if (cp < 0x20 || cp == 0x7F) return 6;
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}

bool in_set(char32_t cp, std::string_view set) noexcept {
  return cp < 0x80 && set.find(static_cast<char>(cp)) != std::string_view::npos;
}

// Appends the escaped form of the code point at text[i] (advancing i) to `out` and returns the
// number of units the reader will see.
std::size_t append_escaped_piece(std::string& out, std::string_view text, std::size_t& i, dialect d,
                                 length_unit unit) {
  char32_t cp = decode_utf8(text, i);
  if (is_bidi_control(cp)) return 0;
  if (is_control(cp)) cp = ' ';
  if (cp == '@' && i < text.size() && mention_word_at(text, i)) {
    out += '@';
    out += k_word_joiner;
    return unit_length('@', unit) + unit_length(0x2060, unit);
  }
  switch (d) {
    case dialect::plain:
      append_utf8(out, cp);
      break;
    case dialect::slack_mrkdwn:
      if (cp == '&')
        out += "&amp;";
      else if (cp == '<')
        out += "&lt;";
      else if (cp == '>')
        out += "&gt;";
      else
        append_utf8(out, cp);
      break;
    case dialect::telegram_html:
      if (cp == '&')
        out += "&amp;";
      else if (cp == '<')
        out += "&lt;";
      else if (cp == '>')
        out += "&gt;";
      else if (cp == '"')
        out += "&quot;";
      else
        append_utf8(out, cp);
      break;
    case dialect::discord_markdown:
      // Masked links need [ ] ( ); mentions and timestamps need < >; the rest is emphasis,
      // code, spoilers and quotes. Line starts (# - >) cannot occur: newlines became spaces.
      if (in_set(cp, "\\*_~`|[]()<>#")) out += '\\';
      append_utf8(out, cp);
      break;
    case dialect::teams_markdown:
      if (in_set(cp, "\\*_~`[]()<>#|")) out += '\\';
      append_utf8(out, cp);
      break;
  }
  return unit_length(cp, unit);
}

std::size_t ellipsis_units(length_unit unit) noexcept { return unit_length(0x2026, unit); }

// Units a reader sees in trusted HTML: tags are free, an entity is one character.
std::size_t visible_html_length(std::string_view s, length_unit unit) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '<') {
      const std::size_t close = s.find('>', i);
      i = close == std::string_view::npos ? s.size() : close + 1;
      continue;
    }
    if (s[i] == '&') {
      const std::size_t semi = s.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 8) {
        n += 1;
        i = semi + 1;
        continue;
      }
    }
    n += unit_length(decode_utf8(s, i), unit);
  }
  return n;
}

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr char k_hex_upper[] = "0123456789ABCDEF";

void append_percent(std::string& out, unsigned char c) {
  out += '%';
  out += k_hex_upper[c >> 4];
  out += k_hex_upper[c & 0xF];
}

}  // namespace

char32_t decode_utf8(std::string_view s, std::size_t& i) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  std::size_t n = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
  } else {
    ++i;
    return k_replacement_char;
  }
  if (i + n > s.size()) {
    ++i;
    return k_replacement_char;
  }
  char32_t cp = b0 & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return k_replacement_char;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return k_replacement_char;
  }
  i += n;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = k_replacement_char;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::size_t unit_length(char32_t cp, length_unit unit) noexcept {
  switch (unit) {
    case length_unit::code_points:
      return 1;
    case length_unit::utf16:
      return cp >= 0x10000 ? 2 : 1;
    case length_unit::json_bytes:
      return json_units(cp);
    case length_unit::bytes:
      break;
  }
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}

std::size_t text_length(std::string_view text, length_unit unit) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size();) n += unit_length(decode_utf8(text, i), unit);
  return n;
}

std::string escape(std::string_view text, dialect d) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (std::size_t i = 0; i < text.size();) {
    append_escaped_piece(out, text, i, d, length_unit::bytes);
  }
  return out;
}

std::string truncate(std::string_view text, std::size_t max, length_unit unit) {
  std::string out;
  std::size_t used = 0;
  std::size_t i = 0;
  // Fast path: the whole text fits.
  for (; i < text.size();) {
    const std::size_t before = i;
    const char32_t cp = decode_utf8(text, i);
    const std::size_t u = unit_length(cp, unit);
    if (used + u > max) {
      i = before;
      break;
    }
    used += u;
    append_utf8(out, cp);
  }
  if (i >= text.size()) return out;
  // Cut: back off until the ellipsis fits too.
  const std::size_t e = ellipsis_units(unit);
  if (max < e) return std::string();
  while (used + e > max && !out.empty()) {
    std::size_t start = out.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(out[start]) & 0xC0) == 0x80) --start;
    std::size_t j = start;
    used -= unit_length(decode_utf8(out, j), unit);
    out.resize(start);
  }
  out += k_ellipsis;
  return out;
}

std::optional<std::string> safe_link_url(std::string_view url) {
  constexpr std::size_t k_max_url = 2048;
  if (url.size() > k_max_url) return std::nullopt;
  std::string out;
  std::size_t rest = 0;
  auto starts_ci = [&](std::string_view prefix) {
    if (url.size() < prefix.size()) return false;
    for (std::size_t k = 0; k < prefix.size(); ++k) {
      if (ascii_lower(url[k]) != prefix[k]) return false;
    }
    return true;
  };
  if (starts_ci("https://")) {
    out = "https://";
    rest = 8;
  } else if (starts_ci("http://")) {
    out = "http://";
    rest = 7;
  } else {
    return std::nullopt;
  }
  // Authority: host[:port] only. Userinfo ("https://nvda.com@evil.example/") is refused: it
  // makes a link look like it goes somewhere it does not.
  std::size_t end = url.find_first_of("/?#", rest);
  if (end == std::string_view::npos) end = url.size();
  const std::string_view authority = url.substr(rest, end - rest);
  if (authority.empty()) return std::nullopt;
  for (char c : authority) {
    if (!(ascii_alnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']')) {
      return std::nullopt;
    }
  }
  for (char c : authority) out += ascii_lower(c);
  for (std::size_t i = end; i < url.size(); ++i) {
    const auto c = static_cast<unsigned char>(url[i]);
    if (c <= 0x20 || c == 0x7F) return std::nullopt;  // whitespace or control: not a URL
    const bool plain =
        ascii_alnum(static_cast<char>(c)) ||
        std::string_view("-._~/?#@!$&*+,;=:").find(static_cast<char>(c)) != std::string_view::npos;
    if (plain) {
      out += static_cast<char>(c);
    } else if (c == '%' && i + 2 < url.size() && is_hex(url[i + 1]) && is_hex(url[i + 2])) {
      out += '%';
    } else {
      append_percent(out, c);
    }
  }
  if (out.size() > k_max_url) return std::nullopt;
  return out;
}

std::string percent_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (ascii_alnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out += ch;
    } else {
      append_percent(out, c);
    }
  }
  return out;
}

// bounded_text

bounded_text::bounded_text(dialect d, length_unit unit, std::size_t limit, cost mode)
    : dialect_(d), unit_(unit), limit_(limit), mode_(mode) {}

std::size_t bounded_text::room() const noexcept {
  const std::size_t taken = used_ + reserved_;
  return taken >= limit_ ? 0 : limit_ - taken;
}

std::size_t bounded_text::tag_cost(std::string_view s) const noexcept {
  if (mode_ == cost::visible && dialect_ == dialect::telegram_html) {
    return visible_html_length(s, unit_);
  }
  return text_length(s, unit_);
}

bool bounded_text::tag(std::string_view trusted) {
  const std::size_t c = tag_cost(trusted);
  if (c > room()) {
    truncated_ = true;
    return false;
  }
  out_ += trusted;
  used_ += c;
  return true;
}

bool bounded_text::text(std::string_view untrusted, std::size_t cap) {
  const std::size_t avail = std::min(cap, room());
  // Cost of each escaped piece: what is sent, or what the reader sees.
  auto piece_cost = [&](const std::string& piece, std::size_t visible) {
    return mode_ == cost::visible ? visible : text_length(piece, unit_);
  };
  std::string piece;
  std::size_t total = 0;
  bool fits = true;
  for (std::size_t i = 0; i < untrusted.size();) {
    piece.clear();
    const std::size_t v = append_escaped_piece(piece, untrusted, i, dialect_, unit_);
    total += piece_cost(piece, v);
    if (total > avail) {
      fits = false;
      break;
    }
  }
  if (fits) {
    for (std::size_t i = 0; i < untrusted.size();) {
      append_escaped_piece(out_, untrusted, i, dialect_, unit_);
    }
    used_ += total;
    return true;
  }
  truncated_ = true;
  const std::size_t e = ellipsis_units(unit_);
  if (avail < e) return false;
  const std::size_t budget = avail - e;
  std::size_t spent = 0;
  for (std::size_t i = 0; i < untrusted.size();) {
    piece.clear();
    const std::size_t v = append_escaped_piece(piece, untrusted, i, dialect_, unit_);
    const std::size_t c = piece_cost(piece, v);
    if (spent + c > budget) break;
    out_ += piece;
    spent += c;
  }
  out_ += k_ellipsis;
  used_ += spent + e;
  return false;
}

bool bounded_text::styled(std::string_view open, std::string_view untrusted, std::string_view close,
                          std::size_t cap) {
  const std::size_t frame = tag_cost(open) + tag_cost(close);
  const std::size_t inner = room() > frame ? room() - frame : 0;
  if (std::min(cap, inner) < 2 * ellipsis_units(unit_) || untrusted.empty()) {
    if (!untrusted.empty()) truncated_ = true;
    return false;
  }
  reserve(tag_cost(close));
  tag(open);
  const bool whole = text(untrusted, cap);
  release(tag_cost(close));
  tag(close);
  return whole;
}

bool bounded_text::link(std::string_view url, std::string_view label, std::size_t label_cap) {
  const std::optional<std::string> safe = safe_link_url(url);
  if (!safe) return text(label, label_cap);
  std::string open, close;
  switch (dialect_) {
    case dialect::slack_mrkdwn: {
      // & is Slack's entity marker everywhere, URLs included; | < > are percent-encoded.
      std::string url_text;
      for (char c : *safe) url_text += c == '&' ? std::string("&amp;") : std::string(1, c);
      open = "<" + url_text + "|";
      close = ">";
      break;
    }
    case dialect::discord_markdown:
    case dialect::teams_markdown: {
      // Parentheses would end the (url) part early; safe_link_url encodes them already.
      open = "[";
      close = "](" + *safe + ")";
      break;
    }
    case dialect::telegram_html: {
      std::string attr;
      for (char c : *safe) {
        if (c == '&')
          attr += "&amp;";
        else if (c == '"')
          attr += "&quot;";
        else
          attr += c;
      }
      open = "<a href=\"" + attr + "\">";
      close = "</a>";
      break;
    }
    case dialect::plain:
      open = "";
      close = " (" + *safe + ")";
      break;
  }
  const std::size_t frame = tag_cost(open) + tag_cost(close);
  // A link whose label would be cut to nothing is worse than the label alone.
  if (frame + 2 * ellipsis_units(unit_) > room() ||
      std::min(label_cap, room() - frame) < 2 * ellipsis_units(unit_)) {
    return text(label, label_cap);
  }
  reserve(tag_cost(close));
  tag(open);
  const bool whole = text(label, label_cap);
  release(tag_cost(close));
  tag(close);
  return whole;
}

}  // namespace aftershock::exporters
