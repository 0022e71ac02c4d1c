// Links headline text to the entities (tickers) and themes it names, in one multi-pattern pass
// over the text (an Aho-Corasick automaton over normalized text; never a loop of regexes).
// Built once from specs; match() is const and reentrant, so one matcher may be shared by
// threads once built (the only per-call state is thread_local scratch).
//
// Matching rules, and the choices a newcomer might otherwise undo:
// - Normalization, applied alike to patterns and text: ASCII and Latin-1/Latin Extended-A case
//   folding (É -> é), full-width ASCII U+FF01..U+FF5E -> ASCII, every Unicode space (U+3000,
//   NBSP, tabs, newlines) -> one space with runs collapsed, invisible characters (soft hyphen,
//   zero-width space/joiners, BOM) dropped, and 128 common traditional Chinese characters
//   -> simplified (偉->伟, 達->达, 國->国, 臺->台, 價->价 ...). Positions are byte offsets in the
//   ORIGINAL text. Each invalid UTF-8 byte becomes a sentinel no pattern contains, so it never
//   matches and never joins the text on its two sides into a match.
// - Word boundaries, decided per edge of the pattern: an edge whose character is a word
//   character (ASCII letter/digit, Latin letter U+00C0..U+024F, combining accent) needs a
//   non-word character or the text edge beside it; a CJK (or punctuation) edge needs nothing.
//   So "AMD" matches in "英伟达和AMD芯片" and "AMD's" but not "AMDX"; "英伟达" matches anywhere.
//   (Per edge rather than "any CJK character exempts the whole alias": for a mixed alias such as
//   "DeepSeek股东" the Latin start still must not be glued to a Latin word.)
// - Cashtags: '$' + an exact, case-sensitive universe symbol ([A-Z0-9.]+, trailing dots are
//   punctuation) not followed by a word character: "$NVDA", "$NVDA's", "$SU.PA".
// - Ambiguous aliases (Arm, Meta, Apple ...) count only when corroborated by any of: one of the
//   entity's `context` words; a built-in market word anywhere in the text (shares, stock, chip,
//   earnings, Nasdaq, Inc, Holdings, market cap, 股价, 芯片 ...); the entity's unambiguous alias
//   or cashtag; or the entity's symbol among the feed's tags (a vendor tag is the vendor's own
//   corroboration, which is what links "Meta To Spend $60B-$65B On AI Infrastructure" tagged
//   META). A capitalised word or its place at the start of the headline is NOT corroboration.
// - Negative phrases veto the alias/keyword occurrences of their own entity/theme they overlap.
//   They need a boundary at their start only, so "apple orchard" also vetoes "apple orchards".
//   Built-in negatives ("Amazon River", "arm wrestling", "oracle bone", "apple orchard",
//   "micron filter", "meta tag" ...) apply to the entities that have that word as an alias.
// - Results: at most one entity_match per symbol (its first valid occurrence; at one position the
//   longest alias wins, then the configured form that equals the text, then config order),
//   direct matches in text order, then feed tags in feed order; at most one theme_match per
//   theme, in text order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aftershock::rules {

/// One tradable entity and the words that name it in headlines.
struct entity_spec {
  std::string symbol;                          // "NVDA"
  std::string name;                            // "Nvidia" (display)
  std::vector<std::string> aliases;            // unambiguous: "Nvidia", "英伟达", "英偉達", "輝達"
  std::vector<std::string> ambiguous_aliases;  // need corroborating context: "Arm", "Apple"
  std::vector<std::string> context;            // words that corroborate an ambiguous alias
  std::vector<std::string> negative;           // phrases that veto a match they overlap:
                                               // "Amazon River", "arm wrestling"
};

/// A theme: keywords that link a headline to baskets of symbols rather than to one ticker.
struct theme_spec {
  std::string name;                   // "deepseek"
  std::vector<std::string> keywords;  // "DeepSeek", "深度求索"
  std::vector<std::string> baskets;   // "ai_semis", "ai_power"
  std::vector<std::string> negative;
};

/// How a headline came to be linked to a symbol.
enum class link_kind : std::uint8_t {
  direct = 0,       // an alias or cashtag in the text
  feed_symbol = 1,  // the vendor tagged the symbol
  theme = 2,        // a theme keyword whose baskets hold the symbol
};
const char* to_string(link_kind k) noexcept;

struct entity_match {
  std::string symbol;
  link_kind how = link_kind::direct;
  std::string alias;          // the alias as configured (or "$NVDA", or the feed symbol)
  std::size_t position = 0;   // byte offset of the match in the original text (0 for feed tags)
};

struct theme_match {
  std::string theme;
  std::string keyword;
  std::size_t position = 0;
};

struct match_result {
  std::vector<entity_match> entities;  // at most one per symbol: the first direct match wins,
                                       // then the feed tag
  std::vector<theme_match> themes;     // at most one per theme
};

/// A problem found while building the matcher (empty alias, alias shared by two symbols ...).
struct matcher_error {
  std::string message;
};

class headline_matcher {
 public:
  /// Builds the automaton. Problems are appended to `errors`; the matcher still works for
  /// the specs that were valid. Problems: an empty alias/keyword/context/negative string, one
  /// that is not UTF-8 or normalizes to nothing; an unambiguous alias that normalizes like
  /// another symbol's (the first symbol keeps it); an alias listed as both unambiguous and
  /// ambiguous (kept as unambiguous); an entity without a symbol, a repeated symbol or theme
  /// name (skipped).
  headline_matcher(const std::vector<entity_spec>& entities, const std::vector<theme_spec>& themes,
                   std::vector<matcher_error>* errors = nullptr);
  ~headline_matcher();
  headline_matcher(headline_matcher&&) noexcept;
  headline_matcher& operator=(headline_matcher&&) noexcept;

  /// Matches text (UTF-8, possibly invalid: invalid bytes never match and never crash).
  /// `feed_symbols` are the vendor's tags; those in the universe become feed_symbol links.
  match_result match(std::string_view text, const std::vector<std::string>& feed_symbols = {}) const;

  /// Distinct normalized patterns in the automaton (aliases, keywords, context, negative and
  /// built-in market words; forms that normalize alike count once).
  std::size_t pattern_count() const noexcept;

  /// States of the automaton (for sizing and diagnostics).
  std::size_t state_count() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace aftershock::rules
