#include "cluster/topology.h"

#include <charconv>
#include <cstdio>

namespace aftershock::cluster {

std::string subject_token(std::string_view text) {
  if (text.empty()) return "_";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '.' || c == '*' || c == '>' || c == '%' || u <= 0x20 || u == 0x7F) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string event_subject(const rules::event& e, std::string_view exchange, std::uint32_t shard) {
  std::string s = std::string(k_events_prefix) + std::to_string(shard) + ".";
  if (const auto* n = std::get_if<rules::news>(&e)) return s + "news." + subject_token(n->source);
  return s + subject_token(exchange) + "." + subject_token(rules::event_symbol(e));
}

std::string shard_events_filter(std::uint32_t shard) {
  return std::string(k_events_prefix) + std::to_string(shard) + ".>";
}

std::string tick_subject(std::uint32_t shard) {
  return std::string(k_events_prefix) + std::to_string(shard) + ".tick";
}

std::string stage_subject(std::uint32_t shard) {
  return std::string(k_stage_prefix) + std::to_string(shard);
}

std::uint64_t fnv1a64(std::string_view text) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

bool shard_spec::owns(std::string_view symbol) const noexcept {
  return shard_of(symbol) == index;
}

std::uint32_t shard_spec::shard_of(std::string_view symbol) const noexcept {
  return count <= 1 ? 0 : static_cast<std::uint32_t>(fnv1a64(symbol) % count);
}

bool shard_spec::owns(const rules::alert& a) const noexcept {
  return owns(a.symbol.empty() ? std::string_view(a.rule) : std::string_view(a.symbol));
}

std::string shard_spec::to_string() const {
  return std::to_string(index) + "/" + std::to_string(count);
}

std::optional<shard_spec> parse_shard(std::string_view text, std::string* why) {
  auto fail = [&](const char* message) -> std::optional<shard_spec> {
    if (why) *why = message;
    return std::nullopt;
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return fail("a shard is I/N, e.g. 0/3");
  shard_spec s;
  const char* b = text.data();
  auto [p1, e1] = std::from_chars(b, b + slash, s.index);
  auto [p2, e2] = std::from_chars(b + slash + 1, b + text.size(), s.count);
  if (e1 != std::errc{} || p1 != b + slash || e2 != std::errc{} || p2 != b + text.size()) {
    return fail("a shard is I/N with whole numbers, e.g. 0/3");
  }
  if (s.count == 0 || s.count > 4096) return fail("the shard count N must be 1 to 4096");
  if (s.index >= s.count) return fail("the shard index I must be below N (0/3, 1/3, 2/3)");
  return s;
}

}  // namespace aftershock::cluster
