#include "feedsim/generator.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace aftershock::feedsim {

namespace {

// splitmix64: tiny, fast, and its output is fixed by its definition (unlike the standard
// library's distributions, which differ between implementations).
class rng {
 public:
  explicit rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n) for n < 2^32 (multiply-shift; the bias is below 2^-32).
  std::uint32_t below(std::uint32_t n) noexcept {
    return static_cast<std::uint32_t>(((next() >> 32) * n) >> 32);
  }
  /// Uniform in [lo, hi].
  std::uint32_t between(std::uint32_t lo, std::uint32_t hi) noexcept {
    return lo + below(hi - lo + 1);
  }

 private:
  std::uint64_t state_;
};

// Appends decimal digits quickly (the generator writes hundreds of millions of numbers).
void put_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void put_fixed(std::string& out, std::uint64_t v, int digits) {
  char buf[24];
  for (int i = digits - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<std::size_t>(digits));
}

// Cents as a JSON number: 12345 -> 123.45, 12300 -> 123.3, 12000 -> 120 (shortest form, as
// a JSON encoder would write the double).
void put_price(std::string& out, std::uint64_t cents) {
  put_uint(out, cents / 100);
  const unsigned frac = static_cast<unsigned>(cents % 100);
  if (frac == 0) return;
  out += '.';
  out += static_cast<char>('0' + frac / 10);
  if (frac % 10) out += static_cast<char>('0' + frac % 10);
}

// RFC 3339 in UTC, formatted from a per-day cache of the date part.
class time_formatter {
 public:
  // "2025-01-27T14:30:00.040Z" (`digits` fractional digits; 0 = none).
  void put(std::string& out, rules::time_ns t, int digits) {
    const std::int64_t day = t / rules::k_ns_per_day;
    if (day != cached_day_) {
      const rules::civil_date d = rules::civil_from_days(day);
      date_.clear();
      put_fixed(date_, static_cast<std::uint64_t>(d.year), 4);
      date_ += '-';
      put_fixed(date_, d.month, 2);
      date_ += '-';
      put_fixed(date_, d.day, 2);
      date_ += 'T';
      cached_day_ = day;
    }
    out += date_;
    const std::int64_t in_day = t - day * rules::k_ns_per_day;
    const auto secs = static_cast<std::uint64_t>(in_day / rules::k_ns_per_s);
    put_fixed(out, secs / 3600, 2);
    out += ':';
    put_fixed(out, secs / 60 % 60, 2);
    out += ':';
    put_fixed(out, secs % 60, 2);
    if (digits > 0) {
      out += '.';
      std::uint64_t frac = static_cast<std::uint64_t>(in_day % rules::k_ns_per_s);
      for (int i = 9; i > digits; --i) frac /= 10;
      put_fixed(out, frac, digits);
    }
    out += 'Z';
  }

 private:
  std::int64_t cached_day_ = -1;
  std::string date_;
};

struct symbol_state {
  std::string name;
  std::uint64_t price_cents = 0;
  std::uint64_t volume = 0;  // running, for bars
  char tape = 'C';
};

constexpr std::array<char, 7> k_exchanges = {'V', 'K', 'P', 'Q', 'Z', 'N', 'J'};
constexpr std::array<const char*, 8> k_verbs = {
    "jump", "slide", "surge", "fall", "climb", "drop", "rally", "sink"};
constexpr std::array<const char*, 8> k_reasons = {
    "after earnings beat estimates", "as analysts cut price target", "on takeover talk",
    "after guidance raise", "as regulator opens probe", "on new AI chip contract",
    "after CEO departure", "as short sellers pile in"};

}  // namespace

std::vector<std::string> validate(const generator_options& o) {
  std::vector<std::string> errors;
  if (o.symbols == 0) errors.emplace_back("--symbols must be at least 1");
  if (o.events == 0) errors.emplace_back("--events must be at least 1");
  if (o.per_frame_min == 0 || o.per_frame_min > o.per_frame_max) {
    errors.emplace_back("--per-frame must be A..B with 1 <= A <= B");
  }
  if (o.per_frame_max > 100'000) errors.emplace_back("--per-frame: at most 100000 per frame");
  if (o.duration <= 0) errors.emplace_back("--duration must be positive");
  if (o.quote_percent + o.bar_percent > 100) {
    errors.emplace_back("quote and bar shares add up to more than 100%");
  }
  return errors;
}

std::optional<std::pair<std::uint32_t, std::uint32_t>> parse_range(std::string_view text) {
  auto number = [](std::string_view s, std::uint32_t& v) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && end == s.data() + s.size();
  };
  std::uint32_t a = 0, b = 0;
  const auto dots = text.find("..");
  if (dots == std::string_view::npos) {
    if (!number(text, a)) return std::nullopt;
    b = a;
  } else if (!number(text.substr(0, dots), a) || !number(text.substr(dots + 2), b)) {
    return std::nullopt;
  }
  if (a == 0 || a > b) return std::nullopt;
  return std::make_pair(a, b);
}

std::string synthetic_symbol(std::uint32_t index, std::uint32_t symbol_count) {
  int width = 3;
  for (std::uint64_t span = 26 * 26 * 26; span < symbol_count; span *= 26) ++width;
  std::string s(static_cast<std::size_t>(width), 'A');
  for (int i = width - 1; i >= 0; --i) {
    s[static_cast<std::size_t>(i)] = static_cast<char>('A' + index % 26);
    index /= 26;
  }
  return s;
}

bool generate_capture(const generator_options& o, const chunk_sink& sink,
                      generator_stats& stats) {
  stats = {};
  rng random(o.seed);
  std::vector<symbol_state> symbols(o.symbols);
  for (std::uint32_t i = 0; i < o.symbols; ++i) {
    symbols[i].name = synthetic_symbol(i, o.symbols);
    symbols[i].price_cents = random.between(500, 50'000);
    symbols[i].tape = "ABC"[random.below(3)];
  }

  constexpr std::size_t k_chunk = 1u << 20;
  std::string out;
  out.reserve(k_chunk + 64 * 1024);
  auto flush = [&](bool force) {
    if (out.size() < k_chunk && !(force && !out.empty())) return true;
    stats.bytes += out.size();
    const bool ok = sink(out);
    out.clear();
    return ok;
  };

  time_formatter at_format, t_format;
  std::uint64_t trade_id = 1;
  std::uint64_t news_id = 50'000'000;
  std::uint64_t next_headline = o.headline_every;

  while (stats.events < o.events) {
    // Frames are spread evenly over the session by events emitted, so the day ends on time
    // whatever the frame sizes turn out to be.
    const rules::time_ns at =
        o.start + static_cast<rules::time_ns>(static_cast<__int128>(o.duration) *
                                              static_cast<__int128>(stats.events) /
                                              static_cast<__int128>(o.events));
    const std::uint64_t left = o.events - stats.events;
    const std::uint64_t n =
        std::min<std::uint64_t>(random.between(o.per_frame_min, o.per_frame_max), left);

    out += R"({"at":")";
    at_format.put(out, at, 3);
    out += R"(","feed":"alpaca-stocks","frame":[)";
    for (std::uint64_t k = 0; k < n; ++k) {
      if (k) out += ',';
      // A skewed pick (density falling as 1/sqrt(index)): a few symbols carry most of the tape.
      const double u = static_cast<double>(random.next() >> 11) * 0x1.0p-53;
      const auto idx = std::min<std::uint32_t>(
          o.symbols - 1, static_cast<std::uint32_t>(u * u * static_cast<double>(o.symbols)));
      symbol_state& s = symbols[idx];
      // Random walk in cents, floored at a dollar.
      const std::uint32_t step = random.below(7);
      if (step < 3 && s.price_cents > 100 + step) {
        s.price_cents -= step;
      } else if (step > 3) {
        s.price_cents += step - 3;
      }
      const rules::time_ns t = at - 200'000 - random.below(2'800'000);  // 0.2-3 ms latency
      const std::uint32_t kind = random.below(100);
      if (kind < o.bar_percent) {
        const std::uint64_t spread = 1 + random.below(20);
        const std::uint64_t lo = s.price_cents > spread ? s.price_cents - spread : 1;
        const std::uint64_t hi = s.price_cents + random.below(20);
        const std::uint64_t open = lo + random.below(static_cast<std::uint32_t>(hi - lo + 1));
        const std::uint32_t trades = 1 + random.below(400);
        const std::uint64_t volume = 100 + random.below(50'000);
        s.volume += volume;
        out += R"({"T":"b","S":")";
        out += s.name;
        out += R"(","o":)";
        put_price(out, open);
        out += R"(,"h":)";
        put_price(out, hi);
        out += R"(,"l":)";
        put_price(out, lo);
        out += R"(,"c":)";
        put_price(out, s.price_cents);
        out += R"(,"v":)";
        put_uint(out, volume);
        out += R"(,"t":")";
        t_format.put(out, (at / rules::k_ns_per_min - 1) * rules::k_ns_per_min, 0);
        out += R"(","n":)";
        put_uint(out, trades);
        out += R"(,"vw":)";
        put_price(out, (lo + hi) / 2);
        out += '}';
        ++stats.bars;
      } else if (kind < o.bar_percent + o.quote_percent) {
        const std::uint64_t half = 1 + random.below(3);
        out += R"({"T":"q","S":")";
        out += s.name;
        out += R"(","bx":")";
        out += k_exchanges[random.below(k_exchanges.size())];
        out += R"(","bp":)";
        put_price(out, s.price_cents > half ? s.price_cents - half : 1);
        out += R"(,"bs":)";
        put_uint(out, 1 + random.below(10));
        out += R"(,"ax":")";
        out += k_exchanges[random.below(k_exchanges.size())];
        out += R"(","ap":)";
        put_price(out, s.price_cents + half);
        out += R"(,"as":)";
        put_uint(out, 1 + random.below(10));
        out += R"(,"c":["R"],"z":")";
        out += s.tape;
        out += R"(","t":")";
        t_format.put(out, t, 9);
        out += R"("})";
        ++stats.quotes;
      } else {
        // Round lots most of the time, odd lots (with their condition) otherwise.
        const std::uint32_t size =
            random.below(4) == 0 ? 1 + random.below(99) : 100 * (1 + random.below(10));
        out += R"({"T":"t","S":")";
        out += s.name;
        out += R"(","i":)";
        put_uint(out, trade_id++);
        out += R"(,"x":")";
        out += k_exchanges[random.below(k_exchanges.size())];
        out += R"(","p":)";
        put_price(out, s.price_cents);
        out += R"(,"s":)";
        put_uint(out, size);
        out += size < 100 ? R"(,"c":["@","I"],"z":")" : R"(,"c":["@"],"z":")";
        out += s.tape;
        out += R"(","t":")";
        t_format.put(out, t, 9);
        out += R"("})";
        ++stats.trades;
      }
    }
    out += "]}\n";
    ++stats.frames;
    stats.events += n;

    while (o.headline_every && stats.events >= next_headline) {
      next_headline += o.headline_every;
      const symbol_state& s = symbols[random.below(std::min<std::uint32_t>(o.symbols, 200))];
      out += R"({"at":")";
      at_format.put(out, at, 3);
      out += R"(","feed":"alpaca-news","frame":[{"T":"n","id":)";
      put_uint(out, news_id++);
      out += R"(,"headline":")";
      out += s.name;
      out += " shares ";
      out += k_verbs[random.below(k_verbs.size())];
      out += ' ';
      out += k_reasons[random.below(k_reasons.size())];
      out += R"(","summary":"","author":"feedsim","created_at":")";
      at_format.put(out, at, 0);
      out += R"(","updated_at":")";
      at_format.put(out, at, 0);
      out += R"(","url":"","content":"","symbols":[")";
      out += s.name;
      out += R"("],"source":"feedsim"}]}
)";
      ++stats.headlines;
      ++stats.frames;
    }
    if (!flush(false)) return false;
  }
  return flush(true);
}

}  // namespace aftershock::feedsim
