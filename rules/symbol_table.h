// Interns ticker symbols: maps each symbol to a dense index 0..n-1, in the order first seen.
//
// Why not std::unordered_map<std::string, T>: the engine looks a symbol up on every event, and
// a node-based map costs a hash of the string, a bucket load and a node load (two dependent
// cache misses with thousands of symbols) before any rule runs. This table is one flat array
// of 32-byte slots with linear probing; a slot holds the hash, the index and (for symbols up to
// 19 bytes, which covers equities, crypto pairs and OCC option symbols) the key itself, so a
// lookup usually touches one cache line. Indexes are stable for the table's lifetime.
// Not thread-safe (one engine thread owns it).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aftershock::rules {

class symbol_table {
 public:
  static constexpr std::uint32_t npos = UINT32_MAX;

  symbol_table() { slots_.resize(k_initial_slots); }

  /// The symbol's index, or npos if it was never inserted.
  std::uint32_t find(std::string_view symbol) const noexcept {
    const key k = key_of(symbol);
    for (std::size_t i = k.hash & mask();; i = (i + 1) & mask()) {
      const slot& s = slots_[i];
      if (s.index == npos) return npos;
      if (s.hash == k.hash && matches(s, k, symbol)) return s.index;
    }
  }

  /// The symbol's index, inserting it (with the next index) if new; second is true if new.
  std::pair<std::uint32_t, bool> insert(std::string_view symbol) {
    const key k = key_of(symbol);
    std::size_t i = k.hash & mask();
    for (;; i = (i + 1) & mask()) {
      const slot& s = slots_[i];
      if (s.index == npos) break;
      if (s.hash == k.hash && matches(s, k, symbol)) return {s.index, false};
    }
    const auto index = static_cast<std::uint32_t>(names_.size());
    names_.emplace_back(symbol);
    place(i, k.hash, index, symbol);
    // Keep probes short: at most half full.
    if (names_.size() * 2 > slots_.size()) grow();
    return {index, true};
  }

  /// Starts loading the slot a symbol with this hash() would be found in (a cache hint).
  void prefetch(std::uint64_t h) const noexcept { __builtin_prefetch(&slots_[h & mask()]); }
  /// The index of the first symbol whose hash() equals h, or npos. Compares hashes only, so a
  /// collision can name another symbol: for cache hints, never for lookups.
  std::uint32_t find_hash(std::uint64_t h) const noexcept {
    for (std::size_t i = h & mask();; i = (i + 1) & mask()) {
      const slot& s = slots_[i];
      if (s.index == npos || s.hash == h) return s.index;
    }
  }

  std::size_t size() const noexcept { return names_.size(); }
  const std::string& name(std::uint32_t index) const noexcept { return names_[index]; }

  /// A 64-bit hash whose low bits (the slot) depend on every byte.
  static std::uint64_t hash(std::string_view s) noexcept { return key_of(s).hash; }

 private:
  // A symbol as the table compares it: its hash and, up to 16 bytes, its bytes as two
  // zero-padded little-endian words (compared with a slot's key a word at a time).
  struct key {
    std::uint64_t hash;
    std::uint64_t lo, hi;
  };

  static std::uint64_t load64(const char* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  }
  static std::uint64_t load32(const char* p) noexcept {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
  }
  static std::uint64_t mix(std::uint64_t h, std::uint64_t w) noexcept {
    h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 32);
  }

  // Tickers are short: a symbol up to 16 bytes is read in a few fixed-size, possibly
  // overlapping loads that stay within its bytes (no byte loop, no call); longer ones word
  // by word.
  [[gnu::always_inline]] static key key_of(std::string_view s) noexcept {
    const std::size_t n = s.size();
    const char* p = s.data();
    key k{0, 0, 0};
    std::uint64_t h = 14695981039346656037ull ^ n;
    if (n <= 8) {
      if (n >= 4) {
        k.lo = load32(p) | (load32(p + n - 4) << (8 * (n - 4)));
      } else if (n > 0) {
        const auto byte = [p](std::size_t i) {
          return std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
        };
        k.lo = byte(0) | byte(n / 2) | byte(n - 1);
      }
      h = mix(h, k.lo);  // equal keys have equal lengths: one word is the whole key here
    } else if (n <= 16) {
      k.lo = load64(p);
      k.hi = load64(p + n - 8) >> (8 * (16 - n));
      h = mix(mix(h, k.lo), k.hi);
    } else {
      std::size_t i = 0;
      for (; i + 8 <= n; i += 8) h = mix(h, load64(p + i));
      h = mix(h, load64(p + n - 8));  // the tail, overlapping (n > 16)
    }
    h *= 0x9E3779B97F4A7C15ull;
    k.hash = h ^ (h >> 29);
    return k;
  }

  static constexpr std::size_t k_initial_slots = 64;
  static constexpr std::size_t k_inline = 19;
  struct slot {
    std::uint64_t hash = 0;
    std::uint32_t index = npos;
    std::uint8_t length = 0;  // > k_inline: the key lives only in names_
    char key[k_inline] = {};
  };
  static_assert(sizeof(slot) == 32);

  std::size_t mask() const noexcept { return slots_.size() - 1; }

  bool matches(const slot& s, const key& k, std::string_view symbol) const noexcept {
    if (s.length != (symbol.size() > k_inline ? k_inline + 1 : symbol.size())) return false;
    // A slot's key is zero past its length, like the key's words.
    if (symbol.size() <= 16) return load64(s.key) == k.lo && load64(s.key + 8) == k.hi;
    if (symbol.size() > k_inline) return names_[s.index] == symbol;
    return std::memcmp(s.key, symbol.data(), symbol.size()) == 0;
  }

  void place(std::size_t i, std::uint64_t h, std::uint32_t index, std::string_view symbol) {
    slot& s = slots_[i];
    s.hash = h;
    s.index = index;
    if (symbol.size() > k_inline) {
      s.length = k_inline + 1;
    } else {
      s.length = static_cast<std::uint8_t>(symbol.size());
      std::memcpy(s.key, symbol.data(), symbol.size());
    }
  }

  void grow() {
    std::vector<slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const slot& s : old) {
      if (s.index == npos) continue;
      std::size_t i = s.hash & mask();
      while (slots_[i].index != npos) i = (i + 1) & mask();
      slots_[i] = s;
    }
  }

  std::vector<slot> slots_;
  std::vector<std::string> names_;
};

}  // namespace aftershock::rules
