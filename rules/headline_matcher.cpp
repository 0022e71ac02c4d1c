// How it works: configured strings are normalized (normalize() below) and deduplicated into
// patterns; each pattern carries its uses (alias of entity E, context word of E, keyword of
// theme T, negative phrase, market word ...). One Aho-Corasick automaton over byte classes finds
// every pattern occurrence in the normalized headline in a single pass; match() then checks
// word boundaries, applies negative vetoes and corroboration, and keeps the first occurrence
// per symbol and theme. See the header for the matching rules and their reasons.
#include "rules/headline_matcher.h"

#include <algorithm>
#include <array>
#include <limits>
#include <unordered_map>
#include <utility>

namespace aftershock::rules {

const char* to_string(link_kind k) noexcept {
  switch (k) {
    case link_kind::direct:
      return "direct";
    case link_kind::feed_symbol:
      return "feed_symbol";
    case link_kind::theme:
      return "theme";
  }
  return "direct";
}

namespace {

// ---------------------------------------------------------------------------------------------
// Normalization
// ---------------------------------------------------------------------------------------------

// Stands in for each invalid UTF-8 byte. 0xFF never occurs in valid UTF-8, so no (validated)
// pattern contains it: the byte cannot match and it splits the text around it.
constexpr unsigned char k_invalid_byte = 0xFF;
constexpr char32_t k_invalid_cp = 0xFFFFFFFF;

// Traditional -> simplified for common characters of market headlines (company names, 半導體,
// 股價, 漲, 財報 ...). Deliberately small: configs list aliases in both forms anyway; this
// catches the common text variants. Sorted by the traditional code point (checked below).
constexpr std::pair<char16_t, char16_t> k_trad_to_simp[] = {
    {0x4E9E, 0x4E9A}, {0x4F86, 0x6765}, {0x500B, 0x4E2A}, {0x5011, 0x4EEC},  // 亞亚 來来 個个 們们
    {0x5049, 0x4F1F}, {0x50F9, 0x4EF7}, {0x5104, 0x4EBF}, {0x512A, 0x4F18},  // 偉伟 價价 億亿 優优
    {0x5275, 0x521B}, {0x52D5, 0x52A8}, {0x52D9, 0x52A1}, {0x52E2, 0x52BF},  // 創创 動动 務务 勢势
    {0x532F, 0x6C47}, {0x5340, 0x533A}, {0x570B, 0x56FD}, {0x5718, 0x56E2},  // 匯汇 區区 國国 團团
    {0x5831, 0x62A5}, {0x5834, 0x573A}, {0x5B78, 0x5B66}, {0x5BE6, 0x5B9E},  // 報报 場场 學学 實实
    {0x5C07, 0x5C06}, {0x5C08, 0x4E13}, {0x5C0D, 0x5BF9}, {0x5C0E, 0x5BFC},  // 將将 專专 對对 導导
    {0x5E2B, 0x5E08}, {0x5E63, 0x5E01}, {0x5EE0, 0x5382}, {0x5EE3, 0x5E7F},  // 師师 幣币 廠厂 廣广
    {0x5F8C, 0x540E}, {0x5F9E, 0x4ECE}, {0x61C9, 0x5E94}, {0x64CA, 0x51FB},  // 後后 從从 應应 擊击
    {0x64DA, 0x636E}, {0x6578, 0x6570}, {0x6642, 0x65F6}, {0x6703, 0x4F1A},  // 據据 數数 時时 會会
    {0x6771, 0x4E1C}, {0x696D, 0x4E1A}, {0x6975, 0x6781}, {0x6A19, 0x6807},  // 東东 業业 極极 標标
    {0x6A5F, 0x673A}, {0x6B0A, 0x6743}, {0x6E2C, 0x6D4B}, {0x6E96, 0x51C6},  // 機机 權权 測测 準准
    {0x6F32, 0x6DA8}, {0x6FDF, 0x6D4E}, {0x7063, 0x6E7E}, {0x70BA, 0x4E3A},  // 漲涨 濟济 灣湾 為为
    {0x7121, 0x65E0}, {0x71DF, 0x8425}, {0x723E, 0x5C14}, {0x7372, 0x83B7},  // 無无 營营 爾尔 獲获
    {0x7522, 0x4EA7}, {0x767C, 0x53D1}, {0x76E4, 0x76D8}, {0x78A9, 0x7855},  // 產产 發发 盤盘 碩硕
    {0x7A05, 0x7A0E}, {0x7A4D, 0x79EF}, {0x7BC0, 0x8282}, {0x7C21, 0x7B80},  // 稅税 積积 節节 簡简
    {0x7D00, 0x7EAA}, {0x7D04, 0x7EA6}, {0x7D05, 0x7EA2}, {0x7D0D, 0x7EB3},  // 紀纪 約约 紅红 納纳
    {0x7D10, 0x7EBD}, {0x7D61, 0x7EDC}, {0x7D93, 0x7ECF}, {0x7DB2, 0x7F51},  // 紐纽 絡络 經经 網网
    {0x7DDA, 0x7EBF}, {0x7DEF, 0x7EAC}, {0x8056, 0x5723}, {0x806F, 0x8054},  // 線线 緯纬 聖圣 聯联
    {0x81FA, 0x53F0}, {0x8207, 0x4E0E}, {0x8208, 0x5174}, {0x83EF, 0x534E},  // 臺台 與与 興兴 華华
    {0x842C, 0x4E07}, {0x860B, 0x82F9}, {0x865F, 0x53F7}, {0x8853, 0x672F},  // 萬万 蘋苹 號号 術术
    {0x88FD, 0x5236}, {0x8A08, 0x8BA1}, {0x8A0A, 0x8BAF}, {0x8A18, 0x8BB0},  // 製制 計计 訊讯 記记
    {0x8A2D, 0x8BBE}, {0x8AAA, 0x8BF4}, {0x8B49, 0x8BC1}, {0x8B93, 0x8BA9},  // 設设 說说 證证 讓让
    {0x8CA1, 0x8D22}, {0x8CBB, 0x8D39}, {0x8CBF, 0x8D38}, {0x8CC7, 0x8D44},  // 財财 費费 貿贸 資资
    {0x8ECA, 0x8F66}, {0x8EDF, 0x8F6F}, {0x8F1D, 0x8F89}, {0x9019, 0x8FD9},  // 車车 軟软 輝辉 這这
    {0x9032, 0x8FDB}, {0x904B, 0x8FD0}, {0x904E, 0x8FC7}, {0x9054, 0x8FBE},  // 進进 運运 過过 達达
    {0x905C, 0x900A}, {0x9084, 0x8FD8}, {0x9280, 0x94F6}, {0x92FC, 0x94A2},  // 遜逊 還还 銀银 鋼钢
    {0x9322, 0x94B1}, {0x93C8, 0x94FE}, {0x9435, 0x94C1}, {0x9580, 0x95E8},  // 錢钱 鏈链 鐵铁 門门
    {0x958B, 0x5F00}, {0x9593, 0x95F4}, {0x95DC, 0x5173}, {0x9678, 0x9646},  // 開开 間间 關关 陸陆
    {0x969B, 0x9645}, {0x96AA, 0x9669}, {0x96D9, 0x53CC}, {0x96F2, 0x4E91},  // 際际 險险 雙双 雲云
    {0x96FB, 0x7535}, {0x9810, 0x9884}, {0x982D, 0x5934}, {0x984D, 0x989D},  // 電电 預预 頭头 額额
    {0x985E, 0x7C7B}, {0x98DB, 0x98DE}, {0x99AC, 0x9A6C}, {0x9A30, 0x817E},  // 類类 飛飞 馬马 騰腾
    {0x9AD4, 0x4F53}, {0x9D3B, 0x9E3F}, {0x9EDE, 0x70B9}, {0x9F8D, 0x9F99},  // 體体 鴻鸿 點点 龍龙
};

constexpr bool trad_table_sorted() {
  for (std::size_t i = 1; i < std::size(k_trad_to_simp); ++i) {
    if (!(k_trad_to_simp[i - 1].first < k_trad_to_simp[i].first)) return false;
  }
  return true;
}
static_assert(trad_table_sorted(), "k_trad_to_simp must be sorted for binary search");

// One bit per code point in the table's range, so most CJK characters (already simplified or
// not in the table) skip the binary search.
constexpr char32_t k_trad_first = 0x4E9E;
constexpr char32_t k_trad_last = 0x9F8D;
constexpr std::array<std::uint64_t, (k_trad_last - k_trad_first) / 64 + 1> make_trad_bits() {
  std::array<std::uint64_t, (k_trad_last - k_trad_first) / 64 + 1> bits{};
  for (const auto& [trad, simp] : k_trad_to_simp) {
    bits[(trad - k_trad_first) / 64] |= std::uint64_t{1} << ((trad - k_trad_first) % 64);
  }
  return bits;
}
constexpr auto k_trad_bits = make_trad_bits();

constexpr char32_t trad_to_simp(char32_t c) noexcept {
  if (c < k_trad_first || c > k_trad_last) return c;
  const char32_t off = c - k_trad_first;
  if (!((k_trad_bits[off / 64] >> (off % 64)) & 1)) return c;
  const auto* end = std::end(k_trad_to_simp);
  const auto* it = std::lower_bound(std::begin(k_trad_to_simp), end, c,
                                    [](const auto& e, char32_t v) { return e.first < v; });
  return it != end && it->first == c ? it->second : c;
}

// Latin letters of U+00C0..U+024F count as word characters (spec), minus × and ÷, which are
// symbols. Combining accents count too, so a decomposed "Nvidiá" is one word, not "Nvidia".
constexpr bool is_word_cp(char32_t c) noexcept {
  if (c < 0x80) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }
  if (c >= 0xC0 && c <= 0x24F) return c != 0xD7 && c != 0xF7;
  return c >= 0x300 && c <= 0x36F;
}

constexpr bool is_space_cp(char32_t c) noexcept {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// Invisible characters that would otherwise split a word ("Nvi<soft hyphen>dia").
constexpr bool is_invisible_cp(char32_t c) noexcept {
  return c == 0xAD || (c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF;
}

// Simple one-to-one folding; every case keeps the UTF-8 length or shortens it, so normalized
// text is never longer than the original (the buffers are sized by the original).
constexpr char32_t fold_cp(char32_t c) noexcept {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xFF01 && c <= 0xFF5E) {  // full-width ASCII
    c -= 0xFEE0;
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  }
  if (c >= 0xC0 && c <= 0xDE) return c == 0xD7 ? c : c + 0x20;  // À..Þ except ×
  if (c >= 0x100 && c <= 0x17F) {
    // Latin Extended-A pairs upper/lower; the parity of the upper case flips at U+0138.
    if (c <= 0x137) return (c == 0x130 || c == 0x131) ? c : (c | 1);
    if (c >= 0x139 && c <= 0x148) return (c & 1) ? c + 1 : c;
    if (c >= 0x14A && c <= 0x177) return c | 1;
    if (c == 0x178) return 0xFF;  // Ÿ
    if (c >= 0x179 && c <= 0x17E) return (c & 1) ? c + 1 : c;
    return c;
  }
  if (c >= 0x4E00 && c <= 0x9FFF) return trad_to_simp(c);
  return c;
}

// ASCII in one byte per entry: the folded character (all ASCII spaces fold to ' ') in the low
// seven bits, and the word-character flag in the high bit.
constexpr unsigned char k_ascii_word = 0x80;
constexpr std::array<unsigned char, 128> make_ascii_table() {
  std::array<unsigned char, 128> t{};
  for (char32_t c = 0; c < 128; ++c) {
    const char32_t folded = is_space_cp(c) ? U' ' : fold_cp(c);
    t[c] = static_cast<unsigned char>(folded | (is_word_cp(c) ? k_ascii_word : 0));
  }
  return t;
}
constexpr std::array<unsigned char, 128> k_ascii = make_ascii_table();

// Strict decoder (no overlongs, surrogates or values past U+10FFFF). Returns k_invalid_cp and
// length 1 for a bad byte so that decoding resumes at the next byte.
inline char32_t decode_utf8(const unsigned char* p, std::size_t avail, std::size_t& len) noexcept {
  const unsigned char b0 = p[0];
  auto cont = [&](std::size_t i, unsigned char lo, unsigned char hi) {
    return i < avail && p[i] >= lo && p[i] <= hi;
  };
  len = 1;
  if (b0 < 0x80) return b0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (!cont(1, 0x80, 0xBF)) return k_invalid_cp;
    len = 2;
    return (char32_t(b0 & 0x1F) << 6) | (p[1] & 0x3F);
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
    if (!cont(1, lo, hi) || !cont(2, 0x80, 0xBF)) return k_invalid_cp;
    len = 3;
    return (char32_t(b0 & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (!cont(1, lo, hi) || !cont(2, 0x80, 0xBF) || !cont(3, 0x80, 0xBF)) return k_invalid_cp;
    len = 4;
    return (char32_t(b0 & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) |
           (char32_t(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
  }
  return k_invalid_cp;
}

inline std::size_t encode_utf8(char32_t c, unsigned char* out) noexcept {
  if (c < 0x80) {
    out[0] = static_cast<unsigned char>(c);
    return 1;
  }
  if (c < 0x800) {
    out[0] = static_cast<unsigned char>(0xC0 | (c >> 6));
    out[1] = static_cast<unsigned char>(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = static_cast<unsigned char>(0xE0 | (c >> 12));
    out[1] = static_cast<unsigned char>(0x80 | ((c >> 6) & 0x3F));
    out[2] = static_cast<unsigned char>(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = static_cast<unsigned char>(0xF0 | (c >> 18));
  out[1] = static_cast<unsigned char>(0x80 | ((c >> 12) & 0x3F));
  out[2] = static_cast<unsigned char>(0x80 | ((c >> 6) & 0x3F));
  out[3] = static_cast<unsigned char>(0x80 | (c & 0x3F));
  return 4;
}

// Normalized text plus, per normalized byte, the original byte offset of the character it came
// from (origin has one extra entry: the original length). Offsets are 32-bit to keep the
// buffers small; normalize() reads at most k_max_text bytes.
struct normalized {
  std::vector<unsigned char> bytes;
  std::vector<std::uint32_t> origin;
  std::size_t size = 0;
};
constexpr std::size_t k_max_text = std::numeric_limits<std::uint32_t>::max() - 1;

void normalize(std::string_view text, normalized& out) {
  const std::size_t n = std::min(text.size(), k_max_text);
  if (out.bytes.size() < n) out.bytes.resize(n);
  if (out.origin.size() < n + 1) out.origin.resize(n + 1);
  unsigned char* bytes = out.bytes.data();
  std::uint32_t* origin = out.origin.data();
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());

  std::size_t k = 0;
  bool after_space = false;  // collapse whitespace runs to one space
  std::size_t i = 0;
  while (i < n) {
    // ASCII runs, branch-free: always write, advance unless it repeats a space.
    for (; i < n && p[i] < 0x80; ++i) {
      const unsigned char folded = k_ascii[p[i]] & 0x7F;
      const bool space = folded == ' ';
      bytes[k] = folded;
      origin[k] = static_cast<std::uint32_t>(i);
      k += !(space && after_space);
      after_space = space;
    }
    if (i >= n) break;
    const std::size_t from = i;
    std::size_t len = 1;
    char32_t c = decode_utf8(p + i, n - i, len);
    i += len;
    if (c == k_invalid_cp) {
      bytes[k] = k_invalid_byte;
      origin[k++] = static_cast<std::uint32_t>(from);
      after_space = false;
      continue;
    }
    c = fold_cp(c);
    if (is_space_cp(c)) {
      if (!after_space) {
        bytes[k] = ' ';
        origin[k++] = static_cast<std::uint32_t>(from);
      }
      after_space = true;
    } else if (!is_invisible_cp(c)) {
      const std::size_t m = encode_utf8(c, bytes + k);
      for (std::size_t j = 0; j < m; ++j) origin[k++] = static_cast<std::uint32_t>(from);
      after_space = false;
    }
  }
  origin[k] = static_cast<std::uint32_t>(n);
  out.size = k;
}

// Word-character tests on normalized text, needed only at the edges of hits, so they decode
// there instead of the normalizer storing a flag per byte. Normalized text is valid UTF-8
// apart from k_invalid_byte, which is not a word character.
bool word_at(const normalized& t, std::size_t pos) noexcept {
  const unsigned char b = t.bytes[pos];
  if (b < 0x80) return k_ascii[b] & k_ascii_word;
  std::size_t len = 0;
  const char32_t c = decode_utf8(t.bytes.data() + pos, t.size - pos, len);
  return c != k_invalid_cp && is_word_cp(c);
}

bool word_before(const normalized& t, std::size_t pos) noexcept {
  const unsigned char b = t.bytes[pos - 1];
  if (b < 0x80) return k_ascii[b] & k_ascii_word;
  if (b == k_invalid_byte) return false;
  std::size_t start = pos - 1;
  while (start > 0 && pos - start < 4 && (t.bytes[start] & 0xC0) == 0x80) --start;
  return word_at(t, start);
}

// ---------------------------------------------------------------------------------------------
// Built-in vocabularies
// ---------------------------------------------------------------------------------------------

// Words that make a headline about markets, so an ambiguous company name in it most likely
// means the company. Matched with the same boundaries as aliases; traditional forms are covered
// by normalization.
constexpr std::string_view k_market_words[] = {
    "share",          "shares",     "share price",  "stock",        "stocks",
    "chip",           "chips",      "chipmaker",    "chipmakers",   "semiconductor",
    "semiconductors", "earnings",   "nasdaq",       "nyse",         "revenue",
    "revenues",       "investor",   "investors",    "inc",          "corp",
    "corporation",    "holdings",   "guidance",     "analyst",      "analysts",
    "downgrade",      "downgrades", "downgraded",   "upgrade",      "upgrades",
    "upgraded",       "rally",      "rallies",      "plunge",       "plunges",
    "selloff",        "sell-off",   "market cap",   "market value", "valuation",
    "premarket",      "pre-market", "price target", "dividend",     "quarterly",
    "profit",         "ipo",        "s&p 500",      "wall street",  "股价",
    "股票",           "股市",       "美股",         "港股",         "市值",
    "芯片",           "财报",       "营收",         "股东",         "投资者",
    "分析师",         "盘前",       "盘后",         "涨停",         "跌停",
    "暴跌",           "大跌",       "大涨",         "纳斯达克",
};

// Phrases in which the six classic ambiguous names are not the company. Applied only to
// entities that have the key as an alias, on top of their configured negatives.
struct default_negative {
  std::string_view alias;  // normalized
  std::string_view phrase;
};
constexpr default_negative k_default_negatives[] = {
    {"arm", "arm wrestling"},       {"arm", "arm injury"},         {"arm", "arm and a leg"},
    {"meta", "meta tag"},           {"meta", "meta description"},  {"meta", "meta-analysis"},
    {"meta", "meta analysis"},      {"apple", "apple orchard"},    {"apple", "apple pie"},
    {"apple", "apple cider"},       {"apple", "apple juice"},      {"apple", "apple chips"},
    {"apple", "big apple"},         {"oracle", "oracle bone"},     {"oracle", "oracle of omaha"},
    {"oracle", "oracle of delphi"}, {"amazon", "amazon river"},    {"amazon", "amazon rainforest"},
    {"amazon", "amazon basin"},     {"amazon", "amazon jungle"},   {"micron", "micron filter"},
    {"micron", "micron thick"},     {"micron", "micron particle"},
};

// ---------------------------------------------------------------------------------------------
// Pattern uses and the automaton
// ---------------------------------------------------------------------------------------------

enum class use_kind : std::uint8_t {
  alias,           // unambiguous entity alias
  ambiguous,       // entity alias that needs corroboration
  context,         // corroborates the entity's ambiguous aliases
  negative,        // vetoes the entity's alias occurrences it overlaps
  keyword,         // theme keyword
  theme_negative,  // vetoes the theme's keyword occurrences it overlaps
  market,          // built-in market word: corroborates every ambiguous alias
};

struct pattern_use {
  use_kind kind;
  std::uint32_t owner;        // entity or theme index (0 for market words)
  std::uint32_t text;         // index of the configured string
  bool has_variants = false;  // the owner has other configured forms of this pattern
};

struct pattern_info {
  std::uint32_t length = 0;  // normalized bytes
  bool word_start = false;   // first character is a word character: needs a boundary
  bool word_end = false;     // last character is a word character: needs a boundary
  std::uint32_t uses_begin = 0;
  std::uint32_t uses_end = 0;
};

constexpr std::uint32_t k_no_text = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t k_no_state = std::numeric_limits<std::uint32_t>::max();

// Dense table entries name their target so that the scan's dependent chain is a single
// `or` and load: a dense target as its row offset (id << row_shift), a sparse target as its id
// tagged with k_sparse_tag.
constexpr std::uint32_t k_sparse_tag = 0x80000000u;
constexpr std::uint32_t k_state_mask = 0x7FFFFFFFu;

// Up to this many transition slots are stored densely (root and the shallow states that most
// bytes visit, 1 MiB); deeper states keep sorted edges and a failure link. Bounds memory for
// large dictionaries while the hot states cost one load per byte.
constexpr std::size_t k_dense_budget = std::size_t{1} << 18;

// Label and target side by side: a sparse step reads one cache line for both.
struct trie_edge {
  std::uint32_t target;
  std::uint8_t label;  // byte class
};

struct hit {
  std::uint32_t pattern;
  std::size_t start;  // normalized offsets
  std::size_t end;
};

struct span {
  bool theme;
  std::uint32_t owner;
  std::size_t start;
  std::size_t end;
};

struct candidate {
  bool theme;
  use_kind kind;  // alias, ambiguous or keyword; alias also stands for cashtags
  std::uint32_t owner;
  std::size_t norm_start;  // normalized span, for negative vetoes
  std::size_t norm_end;
  std::size_t position;  // original byte offset
  std::size_t length;    // matched length: the longer alias wins at one position
  bool exact;            // the configured form equals the original text
  std::uint32_t text;    // configured string, or k_no_text for a cashtag
};

// Scratch buffers grown beyond this many bytes are released after the call.
constexpr std::size_t k_scratch_keep = std::size_t{1} << 16;

// Per-call working memory, reused across calls on one thread so matching allocates only for
// its results. thread_local keeps match() const and safe to call from many threads.
struct scratch {
  normalized norm;
  std::vector<hit> hits;
  std::vector<span> spans;
  std::vector<std::uint32_t> context;
  std::vector<std::uint32_t> feed;
  std::vector<candidate> candidates;
  std::vector<std::size_t> picked;
};

bool is_cashtag_char(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.';
}

}  // namespace

struct headline_matcher::impl {
  // Automaton over byte classes (bytes absent from every pattern share class 0). States are
  // numbered breadth-first; the first dense_states have full transition rows, the others
  // sorted edges plus a failure link.
  std::array<std::uint8_t, 256> byte_class{};
  std::uint32_t classes = 1;
  std::uint32_t row_shift = 0;  // dense rows are 1 << row_shift wide (>= classes)
  std::uint32_t dense_states = 1;
  std::vector<std::uint32_t> dense;       // dense_states rows of encoded targets
  std::vector<std::uint32_t> edge_begin;  // per state, into edges; one extra entry
  std::vector<trie_edge> edges;           // each state's children, sorted by label
  std::vector<std::uint32_t> fail;
  std::vector<std::int32_t> state_pattern;  // pattern ending exactly here, or -1
  std::vector<std::uint32_t> output_link;   // nearest suffix state with a pattern, 0 for none
  std::vector<std::uint8_t> has_output;     // state_pattern >= 0 or output_link != 0
  std::size_t longest = 0;                  // longest pattern, in normalized bytes

  std::vector<pattern_info> patterns;
  std::vector<pattern_use> uses;
  std::vector<std::string> texts;  // configured strings, as configured

  std::vector<std::string> symbols;                                 // per entity
  std::vector<std::pair<std::string, std::uint32_t>> symbol_index;  // sorted by symbol
  std::vector<std::string> theme_names;

  std::uint32_t find_entity(std::string_view symbol) const noexcept;
  std::uint32_t child(std::uint32_t state, std::uint32_t cls) const noexcept;
  std::uint32_t encode(std::uint32_t state) const noexcept;
  std::uint32_t decode(std::uint32_t entry) const noexcept;
  std::uint32_t next_sparse(std::uint32_t state, std::uint32_t cls) const noexcept;
  void scan(const normalized& text, std::vector<hit>& hits) const;
  void report(std::uint32_t state, std::size_t end, std::size_t start_limit,
              std::vector<hit>& hits) const;
  void build_automaton(const std::vector<std::string>& normalized_patterns);
  match_result match(std::string_view text, const std::vector<std::string>& feed_symbols) const;
};

std::uint32_t headline_matcher::impl::find_entity(std::string_view symbol) const noexcept {
  auto it = std::lower_bound(symbol_index.begin(), symbol_index.end(), symbol,
                             [](const auto& e, std::string_view s) { return e.first < s; });
  return it != symbol_index.end() && it->first == symbol ? it->second : k_no_text;
}

// The trie edge from `state` labelled `cls`, or k_no_state.
inline std::uint32_t headline_matcher::impl::child(std::uint32_t state,
                                                   std::uint32_t cls) const noexcept {
  const std::uint32_t b = edge_begin[state];
  const std::uint32_t e = edge_begin[state + 1];
  if (e - b <= 8) {  // most deep states have one child
    for (std::uint32_t j = b; j < e; ++j) {
      if (edges[j].label == cls) return edges[j].target;
    }
    return k_no_state;
  }
  const auto* last = edges.data() + e;
  const auto* it = std::lower_bound(
      edges.data() + b, last, cls, [](const trie_edge& x, std::uint32_t c) { return x.label < c; });
  return it != last && it->label == cls ? it->target : k_no_state;
}

inline std::uint32_t headline_matcher::impl::encode(std::uint32_t state) const noexcept {
  return state < dense_states ? state << row_shift : state | k_sparse_tag;
}

inline std::uint32_t headline_matcher::impl::decode(std::uint32_t entry) const noexcept {
  return entry & k_sparse_tag ? entry & k_state_mask : entry >> row_shift;
}

// The transition from a sparse state (goto, else failure links until a dense state answers).
std::uint32_t headline_matcher::impl::next_sparse(std::uint32_t state,
                                                  std::uint32_t cls) const noexcept {
  if (cls == 0) return 0;  // a byte in no pattern: back to the root
  for (;;) {
    if (state < dense_states) return decode(dense[(std::size_t{state} << row_shift) | cls]);
    const std::uint32_t t = child(state, cls);
    if (t != k_no_state) return t;
    state = fail[state];
  }
}

void headline_matcher::impl::build_automaton(const std::vector<std::string>& pats) {
  // Byte classes in ascending byte order, so sorted patterns give sorted class labels.
  std::array<bool, 256> used{};
  longest = 0;
  for (const auto& p : pats) {
    for (unsigned char c : p) used[c] = true;
    longest = std::max(longest, p.size());
  }
  classes = 1;
  for (std::size_t b = 0; b < 256; ++b) {
    byte_class[b] = used[b] ? static_cast<std::uint8_t>(classes++) : 0;
  }

  // Trie from patterns in sorted order: each pattern shares its prefix with the previous one
  // and appends its new nodes as the last (largest) children, so no child search is needed.
  struct node {
    std::uint32_t first_child = 0, last_child = 0, next_sibling = 0;  // 0: none (root is 0)
    std::uint8_t label = 0;
    std::int32_t pattern = -1;
  };
  std::vector<node> trie(1);
  std::vector<std::uint32_t> order(pats.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return pats[a] < pats[b]; });
  std::vector<std::uint32_t> path{0};
  const std::string* prev = nullptr;
  for (std::uint32_t id : order) {
    const std::string& s = pats[id];
    std::size_t lcp = 0;
    if (prev) {
      while (lcp < prev->size() && lcp < s.size() && (*prev)[lcp] == s[lcp]) ++lcp;
    }
    path.resize(lcp + 1);
    for (std::size_t j = lcp; j < s.size(); ++j) {
      const std::uint32_t parent = path.back();
      const auto child = static_cast<std::uint32_t>(trie.size());
      trie.push_back({});
      trie[child].label = byte_class[static_cast<unsigned char>(s[j])];
      if (trie[parent].first_child == 0) {
        trie[parent].first_child = child;
      } else {
        trie[trie[parent].last_child].next_sibling = child;
      }
      trie[parent].last_child = child;
      path.push_back(child);
    }
    trie[path.back()].pattern = static_cast<std::int32_t>(id);
    prev = &s;
  }

  // Renumber breadth-first: failure links point to shallower, hence smaller, states, and the
  // shallow states (dense) come first.
  const std::size_t n = trie.size();
  std::vector<std::uint32_t> bfs;
  bfs.reserve(n);
  bfs.push_back(0);
  for (std::size_t head = 0; head < bfs.size(); ++head) {
    for (std::uint32_t c = trie[bfs[head]].first_child; c != 0; c = trie[c].next_sibling) {
      bfs.push_back(c);
    }
  }
  std::vector<std::uint32_t> new_id(n);
  for (std::uint32_t i = 0; i < n; ++i) new_id[bfs[i]] = i;

  edge_begin.assign(n + 1, 0);
  edges.clear();
  edges.reserve(n - 1);
  state_pattern.assign(n, -1);
  for (std::uint32_t s = 0; s < n; ++s) {
    const node& old = trie[bfs[s]];
    edge_begin[s] = static_cast<std::uint32_t>(edges.size());
    state_pattern[s] = old.pattern;
    for (std::uint32_t c = old.first_child; c != 0; c = trie[c].next_sibling) {
      edges.push_back({new_id[c], trie[c].label});
    }
  }
  edge_begin[n] = static_cast<std::uint32_t>(edges.size());
  trie.clear();
  trie.shrink_to_fit();

  // A power-of-two row width turns the row lookup into shift-or, off the critical path's
  // multiply; the padding columns are never read.
  row_shift = 0;
  while ((std::uint32_t{1} << row_shift) < classes) ++row_shift;
  const std::size_t row = std::size_t{1} << row_shift;
  dense_states = static_cast<std::uint32_t>(
      std::max<std::size_t>(1, std::min<std::size_t>(n, k_dense_budget / row)));
  fail.assign(n, 0);
  output_link.assign(n, 0);

  // Failure links in BFS order: every shallower state's link is final when it is read.
  for (std::uint32_t u = 0; u < n; ++u) {
    for (std::uint32_t j = edge_begin[u]; j < edge_begin[u + 1]; ++j) {
      const std::uint32_t v = edges[j].target;
      std::uint32_t f = 0;
      if (u != 0) {
        for (std::uint32_t g = fail[u];; g = fail[g]) {
          const std::uint32_t t = child(g, edges[j].label);
          if (t != k_no_state) {
            f = t;
            break;
          }
          if (g == 0) break;
        }
      }
      fail[v] = f;
      output_link[v] = state_pattern[f] >= 0 ? f : output_link[f];
    }
  }
  has_output.assign(n, 0);
  for (std::uint32_t s = 0; s < n; ++s) {
    has_output[s] = state_pattern[s] >= 0 || output_link[s] != 0;
  }

  // Dense rows: a state's row is its failure state's row (an earlier, finished one) with its
  // own edges on top. Built with plain ids, then encoded.
  dense.assign(std::size_t{dense_states} << row_shift, 0);
  for (std::uint32_t u = 0; u < dense_states; ++u) {
    std::uint32_t* own = dense.data() + (std::size_t{u} << row_shift);
    if (u != 0) {
      const std::uint32_t* fail_row = dense.data() + (std::size_t{fail[u]} << row_shift);
      std::copy(fail_row, fail_row + classes, own);
    }
    for (std::uint32_t j = edge_begin[u]; j < edge_begin[u + 1]; ++j) {
      own[edges[j].label] = edges[j].target;
    }
  }
  for (auto& t : dense) t = encode(t);
}

// Runs the automaton over normalized bytes. A dense step is one dependent `or` and load, so the
// scan is bound by load latency, not by work. Two independent walks therefore share the loop:
// walk A covers [0, split + longest - 1) and reports occurrences starting before `split`; walk
// B starts fresh at `split` and reports the rest. Each occurrence is reported exactly once,
// and the two load chains overlap in the CPU.
void headline_matcher::impl::scan(const normalized& text, std::vector<hit>& hits) const {
  const unsigned char* bytes = text.bytes.data();
  const std::size_t n = text.size;
  const std::uint8_t* cls_of = byte_class.data();
  const std::uint32_t* table = dense.data();
  const std::uint8_t* reports = has_output.data();
  auto step = [&](std::uint32_t& entry, unsigned char b) {
    const std::uint32_t cls = cls_of[b];
    if (!(entry & k_sparse_tag)) {
      entry = table[entry | cls];
      return decode(entry);
    }
    const std::uint32_t state = next_sparse(entry & k_state_mask, cls);
    entry = encode(state);
    return state;
  };

  // Balance the walks: A's length split + longest - 1 equals B's length n - split.
  const std::size_t split = n > longest + 16 ? (n - longest + 1) / 2 : 0;
  const std::size_t a_end = split == 0 ? 0 : split + longest - 1;
  std::uint32_t a = 0;  // encoded states: the root's row
  std::uint32_t b = 0;
  std::size_t i = 0;
  for (; i < a_end; ++i) {
    const std::uint32_t sa = step(a, bytes[i]);
    const std::uint32_t sb = step(b, bytes[split + i]);
    if (reports[sa]) report(sa, i + 1, split, hits);
    if (reports[sb]) report(sb, split + i + 1, n, hits);
  }
  for (i += split; i < n; ++i) {  // B's remainder (nothing when the text is short)
    const std::uint32_t sb = step(b, bytes[i]);
    if (reports[sb]) report(sb, i + 1, n, hits);
  }
}

// Appends the occurrences ending at `end` whose start is before `start_limit`.
void headline_matcher::impl::report(std::uint32_t state, std::size_t end, std::size_t start_limit,
                                    std::vector<hit>& hits) const {
  for (std::uint32_t s = state; s != 0; s = output_link[s]) {
    const std::int32_t p = state_pattern[s];
    if (p < 0) continue;
    const std::size_t start = end - patterns[p].length;
    if (start < start_limit) hits.push_back({static_cast<std::uint32_t>(p), start, end});
  }
}

match_result headline_matcher::impl::match(std::string_view text,
                                           const std::vector<std::string>& feed_symbols) const {
  thread_local scratch sc;
  match_result result;

  sc.feed.clear();
  for (const auto& s : feed_symbols) {
    const std::uint32_t e = find_entity(s);
    if (e != k_no_text && std::find(sc.feed.begin(), sc.feed.end(), e) == sc.feed.end()) {
      sc.feed.push_back(e);
    }
  }

  normalize(text, sc.norm);
  sc.hits.clear();
  scan(sc.norm, sc.hits);
  const normalized& norm = sc.norm;

  // Sort the occurrences by role. Every role needs the start boundary; all but negatives need
  // the end boundary too.
  sc.spans.clear();
  sc.context.clear();
  sc.candidates.clear();
  bool market = false;
  for (const hit& h : sc.hits) {
    const pattern_info& p = patterns[h.pattern];
    const bool start_ok = !p.word_start || h.start == 0 || !word_before(norm, h.start);
    if (!start_ok) continue;
    const bool end_ok = !p.word_end || h.end == norm.size || !word_at(norm, h.end);
    for (std::uint32_t u = p.uses_begin; u < p.uses_end; ++u) {
      const pattern_use& use = uses[u];
      switch (use.kind) {
        case use_kind::negative:
        case use_kind::theme_negative:
          sc.spans.push_back({use.kind == use_kind::theme_negative, use.owner, h.start, h.end});
          break;
        case use_kind::market:
          market = market || end_ok;
          break;
        case use_kind::context:
          if (end_ok) sc.context.push_back(use.owner);
          break;
        case use_kind::alias:
        case use_kind::ambiguous:
        case use_kind::keyword: {
          if (!end_ok) break;
          const std::size_t from = norm.origin[h.start];
          const std::size_t to = norm.origin[h.end];
          // Only forms that normalize alike need the comparison ("英伟达" vs "英偉達").
          const bool exact = use.has_variants && text.substr(from, to - from) == texts[use.text];
          sc.candidates.push_back({use.kind == use_kind::keyword, use.kind, use.owner, h.start,
                                   h.end, from, p.length, exact, use.text});
          break;
        }
      }
    }
  }

  // Negative phrases veto the occurrences of their own entity or theme that they overlap.
  if (!sc.spans.empty()) {
    auto vetoed = [&](const candidate& c) {
      for (const span& s : sc.spans) {
        if (s.theme == c.theme && s.owner == c.owner && s.start < c.norm_end &&
            c.norm_start < s.end) {
          return true;
        }
      }
      return false;
    };
    sc.candidates.erase(std::remove_if(sc.candidates.begin(), sc.candidates.end(), vetoed),
                        sc.candidates.end());
  }

  // Cashtags, on the original text: they are case-sensitive, which normalization is not.
  text = text.substr(0, std::min(text.size(), k_max_text));
  for (std::size_t i = text.find('$'); i != std::string_view::npos; i = text.find('$', i + 1)) {
    std::size_t j = i + 1;
    while (j < text.size() && is_cashtag_char(static_cast<unsigned char>(text[j]))) ++j;
    std::size_t end = j;
    while (end > i + 1 && text[end - 1] == '.') --end;  // "$NVDA." ends a sentence
    if (end == i + 1) continue;
    if (end == j && j < text.size()) {  // "$NVDAx" or "$NVDAé" is not a cashtag
      std::size_t len = 0;
      const char32_t c = decode_utf8(reinterpret_cast<const unsigned char*>(text.data()) + j,
                                     text.size() - j, len);
      if (c != k_invalid_cp && is_word_cp(c)) continue;
    }
    const std::uint32_t e = find_entity(text.substr(i + 1, end - i - 1));
    if (e == k_no_text) continue;
    sc.candidates.push_back({false, use_kind::alias, e, 0, 0, i, end - i, true, k_no_text});
  }

  // One winner per entity/theme: earliest, then longest, then the configured form that equals
  // the text, then config order.
  std::sort(sc.candidates.begin(), sc.candidates.end(), [](const candidate& a, const candidate& b) {
    if (a.theme != b.theme) return !a.theme;
    if (a.owner != b.owner) return a.owner < b.owner;
    if (a.position != b.position) return a.position < b.position;
    if (a.length != b.length) return a.length > b.length;
    if (a.exact != b.exact) return a.exact;
    return a.text < b.text;
  });
  sc.picked.clear();
  auto contains = [](const std::vector<std::uint32_t>& v, std::uint32_t x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  for (std::size_t i = 0; i < sc.candidates.size();) {
    const candidate& first = sc.candidates[i];
    std::size_t j = i;
    bool direct = false;
    while (j < sc.candidates.size() && sc.candidates[j].theme == first.theme &&
           sc.candidates[j].owner == first.owner) {
      direct = direct || sc.candidates[j].kind == use_kind::alias;
      ++j;
    }
    if (first.theme) {
      sc.picked.push_back(i);
    } else {
      const bool corroborated =
          direct || market || contains(sc.context, first.owner) || contains(sc.feed, first.owner);
      for (std::size_t k = i; k < j; ++k) {
        if (sc.candidates[k].kind == use_kind::alias || corroborated) {
          sc.picked.push_back(k);
          break;
        }
      }
    }
    i = j;
  }
  std::sort(sc.picked.begin(), sc.picked.end(), [&](std::size_t a, std::size_t b) {
    const candidate& x = sc.candidates[a];
    const candidate& y = sc.candidates[b];
    if (x.position != y.position) return x.position < y.position;
    return x.owner < y.owner;
  });

  for (std::size_t k : sc.picked) {
    const candidate& c = sc.candidates[k];
    if (c.theme) {
      result.themes.push_back({theme_names[c.owner], texts[c.text], c.position});
    } else {
      const std::string& symbol = symbols[c.owner];
      result.entities.push_back({symbol, link_kind::direct,
                                 c.text == k_no_text ? "$" + symbol : texts[c.text], c.position});
    }
  }
  const std::size_t direct_count = result.entities.size();
  for (std::uint32_t e : sc.feed) {
    const std::string& symbol = symbols[e];
    const auto direct_end = result.entities.begin() + static_cast<std::ptrdiff_t>(direct_count);
    const bool linked = std::any_of(result.entities.begin(), direct_end,
                                    [&](const entity_match& m) { return m.symbol == symbol; });
    if (!linked) result.entities.push_back({symbol, link_kind::feed_symbol, symbol, 0});
  }

  // Bound what an unusually long text leaves behind on this thread.
  if (sc.norm.bytes.size() > k_scratch_keep) sc = scratch{};
  return result;
}

namespace {

// A configured string for an error message, quoted: invalid bytes and control characters as
// \xNN, invisible and unusual spaces as \u{NNNN}, so the message stays readable UTF-8.
std::string printable(std::string_view s) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out = "\"";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = 1;
    const char32_t c = decode_utf8(p + i, s.size() - i, len);
    if (c == k_invalid_cp || c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += k_hex[p[i] >> 4];
      out += k_hex[p[i] & 0xF];
    } else if (is_invisible_cp(c) || (c != ' ' && is_space_cp(c))) {
      out += "\\u{";
      for (int shift = 12; shift >= 0; shift -= 4) out += k_hex[(c >> shift) & 0xF];
      out += '}';
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  out += '"';
  return out;
}

}  // namespace

headline_matcher::headline_matcher(const std::vector<entity_spec>& entities,
                                   const std::vector<theme_spec>& themes,
                                   std::vector<matcher_error>* errors)
    : impl_(std::make_unique<impl>()) {
  impl& m = *impl_;
  auto report = [&](std::string message) {
    if (errors) errors->push_back({std::move(message)});
  };

  struct pending_pattern {
    std::string norm;
    bool word_start = false;
    bool word_end = false;
  };
  std::vector<pending_pattern> pats;
  std::unordered_map<std::string, std::uint32_t> pattern_ids;
  std::vector<std::pair<std::uint32_t, pattern_use>> pending_uses;
  normalized norm;

  // Normalizes a configured string (trimmed of outer spaces). Returns false, reporting why,
  // when it cannot be a pattern.
  auto to_pattern = [&](const std::string& term, const std::string& where,
                        pending_pattern& out) -> bool {
    if (term.empty()) {
      report(where + " is empty");
      return false;
    }
    normalize(term, norm);
    const unsigned char* b = norm.bytes.data();
    if (std::find(b, b + norm.size, k_invalid_byte) != b + norm.size) {
      report(where + " " + printable(term) + " is not valid UTF-8");
      return false;
    }
    std::size_t first = 0;
    std::size_t last = norm.size;
    while (first < last && b[first] == ' ') ++first;
    while (last > first && b[last - 1] == ' ') --last;
    if (first == last) {
      report(where + " " + printable(term) +
             " normalizes to nothing (only spaces or invisible characters)");
      return false;
    }
    out.norm.assign(reinterpret_cast<const char*>(b + first), last - first);
    out.word_start = word_at(norm, first);
    out.word_end = word_before(norm, last);
    return true;
  };
  auto add_use = [&](pending_pattern&& p, use_kind kind, std::uint32_t owner,
                     const std::string& configured) {
    auto [it, inserted] = pattern_ids.try_emplace(p.norm, static_cast<std::uint32_t>(pats.size()));
    if (inserted) pats.push_back(std::move(p));
    const auto text = static_cast<std::uint32_t>(m.texts.size());
    m.texts.push_back(configured);
    pending_uses.push_back({it->second, {kind, owner, text, false}});
  };

  // Entities.
  std::unordered_map<std::string, std::uint32_t> symbol_owner;
  std::unordered_map<std::string, std::uint32_t> alias_owner;  // normalized unambiguous alias
  for (std::size_t i = 0; i < entities.size(); ++i) {
    const entity_spec& spec = entities[i];
    if (spec.symbol.empty()) {
      report("entity #" + std::to_string(i) + " (" + printable(spec.name) +
             ") has no symbol; skipped");
      continue;
    }
    const auto owner = static_cast<std::uint32_t>(m.symbols.size());
    if (!symbol_owner.try_emplace(spec.symbol, owner).second) {
      report("symbol " + spec.symbol + " is configured twice; the second entry is skipped");
      continue;
    }
    m.symbols.push_back(spec.symbol);

    const std::string who = "entity " + spec.symbol + ": ";
    std::vector<std::string> alias_norms;  // for the built-in negatives
    for (std::size_t j = 0; j < spec.aliases.size(); ++j) {
      pending_pattern p;
      if (!to_pattern(spec.aliases[j], who + "aliases[" + std::to_string(j) + "]", p)) continue;
      auto [it, inserted] = alias_owner.try_emplace(p.norm, owner);
      if (!inserted && it->second != owner) {
        report(who + "aliases[" + std::to_string(j) + "] " + printable(spec.aliases[j]) +
               " is already an unambiguous alias of " + m.symbols[it->second] +
               " (both normalize to " + printable(p.norm) + "); kept for " + m.symbols[it->second] +
               " only");
        continue;
      }
      alias_norms.push_back(p.norm);
      add_use(std::move(p), use_kind::alias, owner, spec.aliases[j]);
    }
    for (std::size_t j = 0; j < spec.ambiguous_aliases.size(); ++j) {
      pending_pattern p;
      if (!to_pattern(spec.ambiguous_aliases[j],
                      who + "ambiguous_aliases[" + std::to_string(j) + "]", p)) {
        continue;
      }
      auto it = alias_owner.find(p.norm);
      if (it != alias_owner.end() && it->second == owner) {
        report(
            who + "ambiguous_aliases[" + std::to_string(j) + "] " +
            printable(spec.ambiguous_aliases[j]) +
            " is also one of its unambiguous aliases (after normalization); kept as unambiguous");
        continue;
      }
      alias_norms.push_back(p.norm);
      add_use(std::move(p), use_kind::ambiguous, owner, spec.ambiguous_aliases[j]);
    }
    for (std::size_t j = 0; j < spec.context.size(); ++j) {
      pending_pattern p;
      if (!to_pattern(spec.context[j], who + "context[" + std::to_string(j) + "]", p)) continue;
      add_use(std::move(p), use_kind::context, owner, spec.context[j]);
    }
    for (std::size_t j = 0; j < spec.negative.size(); ++j) {
      pending_pattern p;
      if (!to_pattern(spec.negative[j], who + "negative[" + std::to_string(j) + "]", p)) continue;
      add_use(std::move(p), use_kind::negative, owner, spec.negative[j]);
    }
    for (const default_negative& d : k_default_negatives) {
      if (std::find(alias_norms.begin(), alias_norms.end(), d.alias) == alias_norms.end()) continue;
      pending_pattern p;
      const std::string phrase(d.phrase);
      if (to_pattern(phrase, "built-in negative", p)) {
        add_use(std::move(p), use_kind::negative, owner, phrase);
      }
    }
  }

  m.symbol_index.assign(symbol_owner.begin(), symbol_owner.end());
  std::sort(m.symbol_index.begin(), m.symbol_index.end());

  // Themes. Names are validated by the config layer; a repeated name would make "at most one
  // match per theme" ambiguous, so the repeat is skipped.
  for (std::size_t i = 0; i < themes.size(); ++i) {
    const theme_spec& spec = themes[i];
    if (std::find(m.theme_names.begin(), m.theme_names.end(), spec.name) != m.theme_names.end()) {
      report("theme " + spec.name + " is defined twice; the second definition is skipped");
      continue;
    }
    const auto owner = static_cast<std::uint32_t>(m.theme_names.size());
    m.theme_names.push_back(spec.name);
    const std::string who = "theme " + spec.name + ": ";
    for (std::size_t j = 0; j < spec.keywords.size(); ++j) {
      pending_pattern p;
      if (!to_pattern(spec.keywords[j], who + "keywords[" + std::to_string(j) + "]", p)) continue;
      add_use(std::move(p), use_kind::keyword, owner, spec.keywords[j]);
    }
    for (std::size_t j = 0; j < spec.negative.size(); ++j) {
      pending_pattern p;
      if (!to_pattern(spec.negative[j], who + "negative[" + std::to_string(j) + "]", p)) continue;
      add_use(std::move(p), use_kind::theme_negative, owner, spec.negative[j]);
    }
  }

  for (std::string_view w : k_market_words) {
    pending_pattern p;
    const std::string word(w);
    if (to_pattern(word, "built-in market word", p))
      add_use(std::move(p), use_kind::market, 0, word);
  }

  // Group the uses by pattern. Repeated roles (the same context word twice, a configured
  // negative equal to a built-in one) collapse; alias forms stay apart, since the form that
  // equals the text is reported.
  std::stable_sort(pending_uses.begin(), pending_uses.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  m.patterns.resize(pats.size());
  for (std::size_t k = 0; k < pending_uses.size();) {
    const std::uint32_t id = pending_uses[k].first;
    pattern_info& info = m.patterns[id];
    info.length = static_cast<std::uint32_t>(pats[id].norm.size());
    info.word_start = pats[id].word_start;
    info.word_end = pats[id].word_end;
    info.uses_begin = static_cast<std::uint32_t>(m.uses.size());
    for (; k < pending_uses.size() && pending_uses[k].first == id; ++k) {
      const pattern_use& u = pending_uses[k].second;
      const bool repeated =
          (u.kind != use_kind::alias && u.kind != use_kind::ambiguous &&
           u.kind != use_kind::keyword &&
           std::any_of(m.uses.begin() + info.uses_begin, m.uses.end(), [&](const pattern_use& v) {
             return v.kind == u.kind && v.owner == u.owner;
           }));
      if (!repeated) m.uses.push_back(u);
    }
    info.uses_end = static_cast<std::uint32_t>(m.uses.size());
    auto is_link = [](use_kind kind) {
      return kind == use_kind::alias || kind == use_kind::ambiguous || kind == use_kind::keyword;
    };
    for (std::uint32_t a = info.uses_begin; a < info.uses_end; ++a) {
      for (std::uint32_t b = info.uses_begin; b < info.uses_end; ++b) {
        pattern_use& x = m.uses[a];
        const pattern_use& y = m.uses[b];
        if (a != b && is_link(x.kind) && is_link(y.kind) && x.owner == y.owner &&
            (x.kind == use_kind::keyword) == (y.kind == use_kind::keyword)) {
          x.has_variants = true;
        }
      }
    }
  }

  std::vector<std::string> norms;
  norms.reserve(pats.size());
  for (auto& p : pats) norms.push_back(std::move(p.norm));
  m.build_automaton(norms);
}

headline_matcher::~headline_matcher() = default;
headline_matcher::headline_matcher(headline_matcher&&) noexcept = default;
headline_matcher& headline_matcher::operator=(headline_matcher&&) noexcept = default;

match_result headline_matcher::match(std::string_view text,
                                     const std::vector<std::string>& feed_symbols) const {
  if (!impl_) return {};  // moved from
  return impl_->match(text, feed_symbols);
}

std::size_t headline_matcher::pattern_count() const noexcept {
  return impl_ ? impl_->patterns.size() : 0;
}

std::size_t headline_matcher::state_count() const noexcept {
  return impl_ ? impl_->fail.size() : 0;
}

}  // namespace aftershock::rules
