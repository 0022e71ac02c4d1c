// Tests for the headline matcher: normalization, boundaries, ambiguity, negatives, cashtags,
// feed tags, themes, positions, build errors, and the real DeepSeek-day headlines
// (/work/shared/scenarios/deepseek-2025-01-27/spec.py).
#include "rules/headline_matcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace aftershock::rules {
namespace {

// The DeepSeek-day universe, with the aliases a config would give it.
std::vector<entity_spec> universe() {
  std::vector<entity_spec> u;
  auto add = [&](std::string symbol, std::vector<std::string> aliases,
                 std::vector<std::string> ambiguous = {}, std::vector<std::string> context = {},
                 std::vector<std::string> negative = {}) {
    entity_spec e;
    e.symbol = symbol;
    e.name = symbol;
    e.aliases = std::move(aliases);
    e.ambiguous_aliases = std::move(ambiguous);
    e.context = std::move(context);
    e.negative = std::move(negative);
    u.push_back(std::move(e));
  };
  add("NVDA", {"Nvidia", "英伟达", "英偉達", "輝達"});
  add("AVGO", {"Broadcom", "博通"});
  add("TSM", {"TSMC", "Taiwan Semiconductor", "台积电"});
  add("MU", {"Micron Technology", "美光"}, {"Micron"});
  add("ARM", {}, {"Arm"}, {"SoftBank"});
  add("SMCI", {"Super Micro", "Supermicro"});
  add("AMD", {"AMD", "Advanced Micro Devices", "超微"});
  add("ASML", {"ASML", "阿斯麦"});
  add("VST", {"Vistra"});
  add("CEG", {"Constellation Energy"});
  add("MSFT", {"Microsoft", "微软"});
  add("GOOGL", {"Alphabet", "Google", "谷歌"});
  add("META", {"Meta Platforms", "Facebook"}, {"Meta"});
  add("AMZN", {"Amazon.com", "AWS"}, {"Amazon"}, {"Bezos", "Jassy"}, {"Amazon Prime Video"});
  add("AAPL", {}, {"Apple", "苹果"}, {"iPhone"});
  add("ORCL", {}, {"Oracle"}, {"Larry Ellison"});
  add("TTWO", {"Take-Two", "Take-Two Interactive"});
  add("JG", {"Aurora Mobile"}, {"极光"});
  add("SU.PA", {"Schneider Electric", "施耐德"});
  add("LR.PA", {"Legrand", "勒格朗"});
  add("300766.SZ", {"每日互动", "Merit Interactive"});
  add("SMH", {});
  return u;
}

std::vector<theme_spec> themes() {
  theme_spec deepseek;
  deepseek.name = "deepseek";
  deepseek.keywords = {"DeepSeek", "深度求索", "DeepSeek-R1"};
  deepseek.baskets = {"ai_semis", "ai_power"};
  theme_spec power;
  power.name = "ai_power";
  power.keywords = {"AI power demand", "data center power", "数据中心电力"};
  power.negative = {"AI power demand fears overblown"};
  power.baskets = {"ai_power"};
  return {deepseek, power};
}

const headline_matcher& matcher() {
  static const headline_matcher m = [] {
    std::vector<matcher_error> errors;
    headline_matcher built(universe(), themes(), &errors);
    for (const auto& e : errors) ADD_FAILURE() << "unexpected build error: " << e.message;
    return built;
  }();
  return m;
}

std::vector<std::string> symbols_of(const match_result& r) {
  std::vector<std::string> out;
  for (const auto& e : r.entities) out.push_back(e.symbol);
  return out;
}

std::vector<std::string> themes_of(const match_result& r) {
  std::vector<std::string> out;
  for (const auto& t : r.themes) out.push_back(t.theme);
  return out;
}

using strings = std::vector<std::string>;

// ---------------------------------------------------------------------------------------------
// The scenario's headlines
// ---------------------------------------------------------------------------------------------

TEST(HeadlineMatcherScenario, TrapsLinkToNothing) {
  for (const char* h : {"Deep-Sea Explorers Seek New Funding For Mariana Trench Survey",
                        "Star Pitcher's Arm Injury Sidelines Him For The Season"}) {
    const auto r = matcher().match(h);
    EXPECT_TRUE(r.entities.empty()) << h;
    EXPECT_TRUE(r.themes.empty()) << h;
  }
}

TEST(HeadlineMatcherScenario, DeepSeekPreTrainingCost) {
  const std::string h =
      "DeepSeek Says R1 Pre-Training Cost Just $5.58M On 2,048 Nvidia H800 GPUs Over 55 Days";
  const auto r = matcher().match(h);
  EXPECT_EQ(themes_of(r), strings{"deepseek"});
  EXPECT_EQ(r.themes[0].keyword, "DeepSeek");
  EXPECT_EQ(r.themes[0].position, 0u);
  ASSERT_EQ(symbols_of(r), strings{"NVDA"});
  EXPECT_EQ(r.entities[0].how, link_kind::direct);
  EXPECT_EQ(r.entities[0].alias, "Nvidia");
  EXPECT_EQ(r.entities[0].position, h.find("Nvidia"));
}

TEST(HeadlineMatcherScenario, TraditionalChineseNvidia) {
  const std::string h = "中國DeepSeek走紅,英偉達一天蒸發6000億美元";
  const auto r = matcher().match(h);
  EXPECT_EQ(themes_of(r), strings{"deepseek"});
  EXPECT_EQ(r.themes[0].position, h.find("DeepSeek"));
  ASSERT_EQ(symbols_of(r), strings{"NVDA"});
  EXPECT_EQ(r.entities[0].alias, "英偉達");  // the configured form that is in the text
  EXPECT_EQ(r.entities[0].position, h.find("英偉達"));
}

TEST(HeadlineMatcherScenario, EveryHeadline) {
  struct expectation {
    std::string headline;
    strings feed;
    strings entities;
    strings themes;
  };
  const std::vector<expectation> cases = {
      {"DeepSeek-R1 Ranks Third On Chatbot Arena Leaderboard, Tied With OpenAI's o1",
       {},
       {},
       {"deepseek"}},
      {"Meta To Spend $60B-$65B On AI Infrastructure In 2025, Will Have 1.3M GPUs By Year-End, "
       "Zuckerberg Says",
       {"META"},
       {"META"},
       {}},
      {"国产AI DeepSeek登顶苹果App Store美区免费榜,超越ChatGPT", {}, {}, {"deepseek"}},
      {"DeepSeek股东每日互动开盘走强", {}, {"300766.SZ"}, {"deepseek"}},
      {"Chinese AI Startup DeepSeek's Assistant Overtakes ChatGPT As Top Free App On US App Store",
       {},
       {},
       {"deepseek"}},
      {"施耐德和勒格朗在巴黎证交所下跌超过8%", {}, {"SU.PA", "LR.PA"}, {}},
      {"Nvidia Shares Slide In Premarket As DeepSeek Sparks Doubts Over AI Spending",
       {"NVDA"},
       {"NVDA"},
       {"deepseek"}},
      {"DeepSeek出现短时闪崩,不少网友反映遇到“服务器繁忙”", {}, {}, {"deepseek"}},
      {"UBS Upgrades Take-Two Interactive To Buy, Cites Unprecedented Product Pipeline",
       {"TTWO"},
       {"TTWO"},
       {}},
      {"Aurora Mobile's GPTBots.ai Integrates DeepSeek R1 Large Language Model",
       {"JG"},
       {"JG"},
       {"deepseek"}},
      {"Broadcom, Nvidia Lead Chip Rout As DeepSeek Raises Doubts Over AI Compute Demand",
       {},
       {"AVGO", "NVDA"},
       {"deepseek"}},
      {"英伟达股价暴跌近15%,博通等芯片股大跌", {}, {"NVDA", "AVGO"}, {}},
      {"Vistra, Constellation Energy Plunge As DeepSeek Efficiency Questions AI Power Demand",
       {},
       {"VST", "CEG"},
       {"deepseek", "ai_power"}},
  };
  for (const auto& c : cases) {
    const auto r = matcher().match(c.headline, c.feed);
    EXPECT_EQ(symbols_of(r), c.entities) << c.headline;
    EXPECT_EQ(themes_of(r), c.themes) << c.headline;
    for (const auto& e : r.entities) EXPECT_EQ(e.how, link_kind::direct) << c.headline;
  }
}

TEST(HeadlineMatcherScenario, MetaWithoutFeedTagIsNotEnough) {
  // "Meta" is ambiguous and the headline holds no market word: only the vendor's tag (or a
  // configured context word) corroborates it. A capitalised first word is not corroboration.
  const std::string h =
      "Meta To Spend $60B-$65B On AI Infrastructure In 2025, Will Have 1.3M GPUs By Year-End, "
      "Zuckerberg Says";
  EXPECT_TRUE(matcher().match(h).entities.empty());
  const auto tagged = matcher().match(h, {"META"});
  ASSERT_EQ(tagged.entities.size(), 1u);
  EXPECT_EQ(tagged.entities[0].how, link_kind::direct);  // direct wins over the feed tag
  EXPECT_EQ(tagged.entities[0].alias, "Meta");
  EXPECT_EQ(tagged.entities[0].position, 0u);

  auto specs = universe();
  for (auto& e : specs) {
    if (e.symbol == "META") e.context = {"Zuckerberg"};
  }
  const headline_matcher with_context(specs, themes());
  EXPECT_EQ(symbols_of(with_context.match(h)), strings{"META"});
}

// ---------------------------------------------------------------------------------------------
// Word boundaries
// ---------------------------------------------------------------------------------------------

TEST(HeadlineMatcherBoundaries, LatinAliasNextToCjk) {
  const std::string h = "英伟达和AMD芯片";
  const auto r = matcher().match(h);
  ASSERT_EQ(symbols_of(r), (strings{"NVDA", "AMD"}));
  EXPECT_EQ(r.entities[0].position, 0u);
  EXPECT_EQ(r.entities[1].position, 12u);  // four CJK characters of three bytes
  EXPECT_EQ(r.entities[1].alias, "AMD");
}

TEST(HeadlineMatcherBoundaries, PunctuationAndPossessives) {
  EXPECT_EQ(symbols_of(matcher().match("AMD's new GPU")), strings{"AMD"});
  EXPECT_EQ(symbols_of(matcher().match("AMD’s new GPU")), strings{"AMD"});
  EXPECT_EQ(symbols_of(matcher().match("Nvidia's results")), strings{"NVDA"});
  EXPECT_EQ(symbols_of(matcher().match("(Nvidia)")), strings{"NVDA"});
  EXPECT_EQ(symbols_of(matcher().match("Nvidia")), strings{"NVDA"});
  EXPECT_EQ(symbols_of(matcher().match("\"AMD\"")), strings{"AMD"});
  EXPECT_EQ(symbols_of(matcher().match("AMD-backed startup")), strings{"AMD"});
}

TEST(HeadlineMatcherBoundaries, NoMatchInsideWords) {
  EXPECT_TRUE(matcher().match("AMDX shares rise").entities.empty());
  EXPECT_TRUE(matcher().match("XAMD shares rise").entities.empty());
  EXPECT_TRUE(matcher().match("AMD2 shares rise").entities.empty());
  EXPECT_TRUE(matcher().match("Army stocks up").entities.empty());
  EXPECT_TRUE(matcher().match("Harm to chip stocks").entities.empty());
  EXPECT_TRUE(matcher().match("Nvidias").entities.empty());
  EXPECT_TRUE(matcher().match("metadata tags in stock photos").entities.empty());
  EXPECT_TRUE(matcher().match("NvidiaÉ").entities.empty());  // a Latin letter is a word char
  EXPECT_TRUE(matcher().match("éAMD").entities.empty());
}

TEST(HeadlineMatcherBoundaries, DeepSeekVariants) {
  EXPECT_EQ(themes_of(matcher().match("DeepSeek-R1 is out")), strings{"deepseek"});
  const auto r = matcher().match("DeepSeek-R1 is out");
  EXPECT_EQ(r.themes[0].keyword, "DeepSeek-R1");  // the longer keyword at the same place
  const std::string zh = "国产AI DeepSeek登顶";
  const auto z = matcher().match(zh);
  ASSERT_EQ(themes_of(z), strings{"deepseek"});
  EXPECT_EQ(z.themes[0].position, zh.find("DeepSeek"));
  EXPECT_TRUE(matcher().match("Deep Seek of the ocean").themes.empty());
  EXPECT_TRUE(matcher().match("DeepSeeking answers").themes.empty());
  EXPECT_TRUE(matcher().match("Explorers deep-seek funding").themes.empty());
  EXPECT_EQ(themes_of(matcher().match("deepseek lowercase")), strings{"deepseek"});
  EXPECT_EQ(themes_of(matcher().match("深度求索发布新模型")), strings{"deepseek"});
}

TEST(HeadlineMatcherBoundaries, CjkAliasesNeedNoBoundary) {
  EXPECT_EQ(symbols_of(matcher().match("美国英伟达公司")), strings{"NVDA"});
  EXPECT_EQ(symbols_of(matcher().match("abc英伟达xyz")), strings{"NVDA"});
}

// ---------------------------------------------------------------------------------------------
// Normalization and positions
// ---------------------------------------------------------------------------------------------

TEST(HeadlineMatcherNormalization, FullWidth) {
  const std::string h = "ＮＶＩＤＩＡ股价下跌";
  const auto r = matcher().match(h);
  ASSERT_EQ(symbols_of(r), strings{"NVDA"});
  EXPECT_EQ(r.entities[0].alias, "Nvidia");
  EXPECT_EQ(r.entities[0].position, 0u);

  const std::string spaced = "消息：　ＡＭＤ。";  // ideographic space before, full-width letters
  const auto s = matcher().match(spaced);
  ASSERT_EQ(symbols_of(s), strings{"AMD"});
  EXPECT_EQ(s.entities[0].position, spaced.find("ＡＭＤ"));
  // Full-width letters are word characters too.
  EXPECT_TRUE(matcher().match("ＡＭＤＸ").entities.empty());
}

TEST(HeadlineMatcherNormalization, CaseFolding) {
  EXPECT_EQ(symbols_of(matcher().match("NVIDIA AND BROADCOM")), (strings{"NVDA", "AVGO"}));
  EXPECT_EQ(symbols_of(matcher().match("nvidia")), strings{"NVDA"});
  EXPECT_EQ(symbols_of(matcher().match("amd")), strings{"AMD"});
}

TEST(HeadlineMatcherNormalization, LatinOneFolding) {
  entity_spec nestle;
  nestle.symbol = "NESN.SW";
  nestle.aliases = {"Nestlé", "Société Générale"};
  const headline_matcher m({nestle}, {});
  EXPECT_EQ(symbols_of(m.match("NESTLÉ raises prices")), strings{"NESN.SW"});
  EXPECT_EQ(m.match("NESTLÉ raises prices").entities[0].alias, "Nestlé");
  EXPECT_EQ(symbols_of(m.match("SOCIÉTÉ GÉNÉRALE")), strings{"NESN.SW"});
  EXPECT_TRUE(m.match("Nestlés").entities.empty());
  EXPECT_TRUE(m.match("Nestle").entities.empty());  // accents are kept, only case folds
}

TEST(HeadlineMatcherNormalization, TraditionalAndSimplified) {
  // Only the simplified form is configured for TSM and 300766.SZ: the built-in table folds
  // 積/電 and 動.
  EXPECT_EQ(symbols_of(matcher().match("台積電擴產")), strings{"TSM"});
  EXPECT_EQ(symbols_of(matcher().match("臺積電")), strings{"TSM"});
  EXPECT_EQ(symbols_of(matcher().match("每日互動漲停")), strings{"300766.SZ"});
  EXPECT_EQ(symbols_of(matcher().match("輝達財報")), strings{"NVDA"});
  EXPECT_EQ(matcher().match("輝達財報").entities[0].alias, "輝達");
  EXPECT_EQ(matcher().match("英伟达").entities[0].alias, "英伟达");
  EXPECT_EQ(matcher().match("英偉達").entities[0].alias, "英偉達");
  // A traditional alias matches simplified text as well.
  EXPECT_EQ(symbols_of(matcher().match("辉达")), strings{"NVDA"});
}

TEST(HeadlineMatcherNormalization, WhitespaceAndInvisibles) {
  const std::string h = "Arm\u00A0 \t\nHoldings";  // not an alias; market word "holdings"
  EXPECT_EQ(symbols_of(matcher().match(h)), strings{"ARM"});
  const std::string ce = "Constellation\u3000\u3000Energy surges";
  const auto r = matcher().match(ce);
  ASSERT_EQ(symbols_of(r), strings{"CEG"});
  EXPECT_EQ(r.entities[0].alias, "Constellation Energy");
  EXPECT_EQ(r.entities[0].position, 0u);
  const std::string hidden = "x Nvi\u00ADdi\u200Ba";  // soft hyphen, zero-width space
  const auto v = matcher().match(hidden);
  ASSERT_EQ(symbols_of(v), strings{"NVDA"});
  EXPECT_EQ(v.entities[0].position, 2u);
}

TEST(HeadlineMatcherNormalization, PositionsAreOriginalByteOffsets) {
  const std::string h = "“ＡＩ”热潮：英偉達、Broadcom 與 AMD 齊跌";
  const auto r = matcher().match(h);
  ASSERT_EQ(symbols_of(r), (strings{"NVDA", "AVGO", "AMD"}));
  EXPECT_EQ(r.entities[0].position, h.find("英偉達"));
  EXPECT_EQ(r.entities[1].position, h.find("Broadcom"));
  EXPECT_EQ(r.entities[2].position, h.find("AMD"));
}

TEST(HeadlineMatcherNormalization, FirstOccurrenceWins) {
  const std::string h = "Nvidia, Nvidia and NVIDIA again; AMD then amd";
  const auto r = matcher().match(h);
  ASSERT_EQ(symbols_of(r), (strings{"NVDA", "AMD"}));
  EXPECT_EQ(r.entities[0].position, 0u);
  EXPECT_EQ(r.entities[1].position, h.find("AMD"));
}

TEST(HeadlineMatcherNormalization, InvalidUtf8NeverMatchesNorCrashes) {
  EXPECT_TRUE(matcher()
                  .match("Nvi\xFF"
                         "dia")
                  .entities.empty());
  EXPECT_TRUE(matcher().match("英\xE4伟达").entities.empty());
  EXPECT_TRUE(matcher().match("\xE8\x8B").entities.empty());  // truncated
  // Invalid bytes are not word characters: a match beside one counts, at its true offset.
  const auto r = matcher().match("\xFFNvidia\xC0");
  ASSERT_EQ(symbols_of(r), strings{"NVDA"});
  EXPECT_EQ(r.entities[0].position, 1u);
  // Overlong encodings and surrogates are invalid, so an overlong "A" cannot spell "AMD".
  EXPECT_TRUE(matcher().match("\xC1\x81MD").entities.empty());
  EXPECT_TRUE(matcher().match("\xED\xA0\x80 AMD").entities.size() == 1);
  // Every byte value, in every position, must be safe.
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (int i = 255; i >= 0; --i) all += static_cast<char>(i);
  (void)matcher().match(all);
  for (std::size_t cut = 0; cut <= 12; ++cut) {
    const std::string zh = "英伟达";
    (void)matcher().match(std::string_view(zh).substr(0, cut % (zh.size() + 1)));
  }
}

TEST(HeadlineMatcherNormalization, EmptyText) {
  const auto r = matcher().match("");
  EXPECT_TRUE(r.entities.empty());
  EXPECT_TRUE(r.themes.empty());
  const auto tagged = matcher().match("", {"NVDA"});
  ASSERT_EQ(symbols_of(tagged), strings{"NVDA"});
  EXPECT_EQ(tagged.entities[0].how, link_kind::feed_symbol);
  EXPECT_TRUE(matcher().match("   \t ").entities.empty());
}

// ---------------------------------------------------------------------------------------------
// Ambiguous aliases and negatives
// ---------------------------------------------------------------------------------------------

TEST(HeadlineMatcherAmbiguous, UncorroboratedMeansNoMatch) {
  for (const char* h :
       {"Local arm wrestling contest draws crowds", "Metadata tags explained",
        "Apple orchards bloom early this spring", "Oracle bone script exhibit opens",
        "Scientists map the Amazon River delta", "A 5-micron filter keeps the water clean",
        "Star Pitcher's Arm Injury Sidelines Him For The Season", "Apple pie recipe",
        "The Oracle Speaks", "Meta thoughts on meta", "北极光出现在夜空", "苹果丰收"}) {
    EXPECT_TRUE(matcher().match(h).entities.empty()) << h;
  }
}

TEST(HeadlineMatcherAmbiguous, CorroboratedByMarketWords) {
  EXPECT_EQ(symbols_of(matcher().match("Arm Holdings shares fall")), strings{"ARM"});
  EXPECT_EQ(symbols_of(matcher().match("Apple shares rise")), strings{"AAPL"});
  EXPECT_EQ(symbols_of(matcher().match("Oracle earnings beat")), strings{"ORCL"});
  EXPECT_EQ(symbols_of(matcher().match("Micron jumps on upbeat guidance")), strings{"MU"});
  EXPECT_EQ(symbols_of(matcher().match("Amazon stock hits record")), strings{"AMZN"});
  EXPECT_EQ(symbols_of(matcher().match("Meta Inc. tops estimates")), strings{"META"});
  EXPECT_EQ(symbols_of(matcher().match("Meta's market cap tops $1.5T")), strings{"META"});
  EXPECT_EQ(symbols_of(matcher().match("苹果股价创新高")), strings{"AAPL"});
  EXPECT_EQ(symbols_of(matcher().match("苹果股價創新高")), strings{"AAPL"});  // 價 -> 价
  EXPECT_EQ(symbols_of(matcher().match("极光股价暴涨")), strings{"JG"});
  // A market word only counts as a whole word.
  EXPECT_TRUE(matcher().match("Apple sharesies").entities.empty());
}

TEST(HeadlineMatcherAmbiguous, CorroboratedByContextAliasCashtagOrFeed) {
  EXPECT_EQ(symbols_of(matcher().match("SoftBank's Arm unveils new design")), strings{"ARM"});
  EXPECT_EQ(symbols_of(matcher().match("Apple unveils the iPhone 17")), strings{"AAPL"});
  EXPECT_EQ(symbols_of(matcher().match("Jassy says Amazon will hire")), strings{"AMZN"});
  // The unambiguous alias corroborates, but the first occurrence is reported.
  const auto aws = matcher().match("Amazon expands AWS in Europe");
  ASSERT_EQ(symbols_of(aws), strings{"AMZN"});
  EXPECT_EQ(aws.entities[0].alias, "Amazon");
  EXPECT_EQ(aws.entities[0].position, 0u);
  const auto tag = matcher().match("Arm unveils new design ($ARM)");
  ASSERT_EQ(symbols_of(tag), strings{"ARM"});
  EXPECT_EQ(tag.entities[0].alias, "Arm");
  EXPECT_EQ(tag.entities[0].position, 0u);
  const auto fed = matcher().match("Arm unveils new design", {"ARM"});
  ASSERT_EQ(symbols_of(fed), strings{"ARM"});
  EXPECT_EQ(fed.entities[0].how, link_kind::direct);
  // Another entity's tag does not corroborate.
  EXPECT_EQ(symbols_of(matcher().match("Arm unveils new design", {"NVDA"})), strings{"NVDA"});
}

TEST(HeadlineMatcherAmbiguous, NegativesVetoOverlaps) {
  // Built-in negatives veto even with market words in the headline.
  EXPECT_TRUE(matcher().match("Amazon River drought hits shipping stocks").entities.empty());
  EXPECT_TRUE(matcher().match("Arm wrestling league shares its revenue").entities.empty());
  EXPECT_TRUE(matcher().match("Apple orchards: investors buy farmland").entities.empty());
  EXPECT_TRUE(matcher().match("Oracle bones sold to investors").entities.empty());
  EXPECT_TRUE(matcher().match("5-micron filters: chip fabs need them").entities.empty());
  // The Oracle of Omaha buys Apple shares: AAPL yes, ORCL no.
  EXPECT_EQ(symbols_of(matcher().match("Oracle of Omaha buys more Apple shares")), strings{"AAPL"});
  // A vetoed occurrence does not hide another, valid one.
  const std::string h = "Amazon River cruise maker's shares fall; Amazon stock unaffected";
  const auto r = matcher().match(h);
  ASSERT_EQ(symbols_of(r), strings{"AMZN"});
  EXPECT_EQ(r.entities[0].position, h.rfind("Amazon"));
  // A configured negative vetoes an unambiguous alias too ("Amazon Prime Video" is ours).
  EXPECT_TRUE(matcher().match("Amazon Prime Video stock footage").entities.empty());
}

TEST(HeadlineMatcherAmbiguous, BuiltInNegativesOnlyForEntitiesWithThatAlias) {
  entity_spec river;
  river.symbol = "RIVR";
  river.aliases = {"Amazon River Holdings"};  // contains "amazon river" but not the alias "amazon"
  const headline_matcher m({river}, {});
  EXPECT_EQ(symbols_of(m.match("Amazon River Holdings lists in London")), strings{"RIVR"});
}

TEST(HeadlineMatcherThemes, NegativesAndOnePerTheme) {
  const auto r = matcher().match("AI power demand fears overblown, says utility");
  EXPECT_TRUE(r.themes.empty());
  const auto two = matcher().match("DeepSeek and 深度求索 and DeepSeek again: AI power demand");
  ASSERT_EQ(themes_of(two), (strings{"deepseek", "ai_power"}));
  EXPECT_EQ(two.themes[0].keyword, "DeepSeek");
  EXPECT_EQ(two.themes[0].position, 0u);
  EXPECT_EQ(two.themes[1].keyword, "AI power demand");
  const std::string zh = "数据中心电力需求";
  ASSERT_EQ(themes_of(matcher().match(zh)), strings{"ai_power"});
  EXPECT_EQ(themes_of(matcher().match("數據中心電力需求")), strings{"ai_power"});
}

TEST(HeadlineMatcherAmbiguous, LongestAliasAtOnePosition) {
  auto specs = universe();
  for (auto& e : specs) {
    if (e.symbol == "ARM") e.aliases = {"Arm Holdings"};
  }
  const headline_matcher m(specs, themes());
  const auto r = m.match("Arm Holdings plc reports");
  ASSERT_EQ(symbols_of(r), strings{"ARM"});
  EXPECT_EQ(r.entities[0].alias, "Arm Holdings");
}

// ---------------------------------------------------------------------------------------------
// Cashtags and feed tags
// ---------------------------------------------------------------------------------------------

TEST(HeadlineMatcherCashtags, Basics) {
  const std::string h = "Movers: $NVDA, $AVGO's slide, $SU.PA.";
  const auto r = matcher().match(h);
  ASSERT_EQ(symbols_of(r), (strings{"NVDA", "AVGO", "SU.PA"}));
  EXPECT_EQ(r.entities[0].alias, "$NVDA");
  EXPECT_EQ(r.entities[0].position, h.find("$NVDA"));
  EXPECT_EQ(r.entities[1].position, h.find("$AVGO"));
  EXPECT_EQ(r.entities[2].alias, "$SU.PA");
  for (const char* miss :
       {"$nvda", "$Nvda", "$NVDAX", "$NVDAx", "$XYZ", "$", "$$", "$5.58M", "$NVDAé", "$ NVDA"}) {
    EXPECT_TRUE(matcher().match(miss).entities.empty()) << miss;
  }
  EXPECT_EQ(symbols_of(matcher().match("股票$NVDA大跌")), strings{"NVDA"});
  EXPECT_EQ(symbols_of(matcher().match("$300766.SZ")), strings{"300766.SZ"});
}

TEST(HeadlineMatcherCashtags, AliasBeforeCashtagReportsAlias) {
  const std::string h = "Nvidia ($NVDA) falls";
  const auto r = matcher().match(h);
  ASSERT_EQ(r.entities.size(), 1u);
  EXPECT_EQ(r.entities[0].alias, "Nvidia");
  EXPECT_EQ(r.entities[0].position, 0u);
  const auto c = matcher().match("$NVDA: Nvidia falls");
  ASSERT_EQ(c.entities.size(), 1u);
  EXPECT_EQ(c.entities[0].alias, "$NVDA");
}

TEST(HeadlineMatcherFeed, TagsLinkAfterDirectMatches) {
  const auto r = matcher().match("Broadcom rallies", {"NVDA", "AVGO", "nvda", "XYZ", "NVDA", "MU"});
  ASSERT_EQ(symbols_of(r), (strings{"AVGO", "NVDA", "MU"}));
  EXPECT_EQ(r.entities[0].how, link_kind::direct);
  EXPECT_EQ(r.entities[1].how, link_kind::feed_symbol);
  EXPECT_EQ(r.entities[1].alias, "NVDA");
  EXPECT_EQ(r.entities[1].position, 0u);
  EXPECT_EQ(r.entities[2].how, link_kind::feed_symbol);
  // SMH has no aliases at all but is in the universe.
  EXPECT_EQ(symbols_of(matcher().match("Semis ETF slides", {"SMH"})), strings{"SMH"});
}

TEST(HeadlineMatcher, LinkKindNames) {
  EXPECT_STREQ(to_string(link_kind::direct), "direct");
  EXPECT_STREQ(to_string(link_kind::feed_symbol), "feed_symbol");
  EXPECT_STREQ(to_string(link_kind::theme), "theme");
}

// ---------------------------------------------------------------------------------------------
// Build errors, determinism, threads, size
// ---------------------------------------------------------------------------------------------

bool has_error(const std::vector<matcher_error>& errors, std::initializer_list<const char*> parts) {
  return std::any_of(errors.begin(), errors.end(), [&](const matcher_error& e) {
    return std::all_of(parts.begin(), parts.end(),
                       [&](const char* p) { return e.message.find(p) != std::string::npos; });
  });
}

TEST(HeadlineMatcherBuild, ErrorsAreReportedAndTheRestWorks) {
  std::vector<entity_spec> specs(4);
  specs[0].symbol = "NVDA";
  specs[0].aliases = {"Nvidia", "", "   ", "\u200B", "Bad\xFF", "英伟达", "英偉達"};
  specs[1].symbol = "FAKE";
  specs[1].aliases = {"NVIDIA", "Fake Corp"};  // NVIDIA normalizes like NVDA's "Nvidia"
  specs[1].ambiguous_aliases = {"FAKE CORP"};  // already unambiguous for FAKE
  specs[2].symbol = "NVDA";                    // repeated symbol
  specs[2].aliases = {"Something"};
  specs[3].aliases = {"No Symbol"};
  theme_spec t;
  t.name = "deepseek";
  t.keywords = {"DeepSeek", ""};
  std::vector<matcher_error> errors;
  const headline_matcher m(specs, {t, t}, &errors);

  EXPECT_TRUE(has_error(errors, {"NVDA", "aliases[1]", "empty"}));
  EXPECT_TRUE(has_error(errors, {"NVDA", "aliases[2]", "normalizes to nothing"}));
  EXPECT_TRUE(has_error(errors, {"NVDA", "aliases[3]", "normalizes to nothing"}));
  EXPECT_TRUE(has_error(errors, {"NVDA", "\"Bad\\xFF\"", "not valid UTF-8"}));
  EXPECT_TRUE(has_error(errors, {"\"NVIDIA\"", "FAKE", "NVDA"}));
  EXPECT_TRUE(has_error(errors, {"symbol NVDA", "twice"}));
  EXPECT_TRUE(has_error(errors, {"no symbol"}));
  EXPECT_TRUE(has_error(errors, {"theme deepseek", "keywords[1]", "empty"}));
  EXPECT_TRUE(has_error(errors, {"theme deepseek", "twice"}));
  EXPECT_TRUE(has_error(errors, {"entity FAKE", "\"FAKE CORP\"", "also one of its unambiguous"}));
  EXPECT_EQ(errors.size(), 10u);
  for (const auto& e : errors) EXPECT_FALSE(e.message.empty());

  // The valid parts still work; the contested alias stays with its first owner.
  EXPECT_EQ(symbols_of(m.match("NVIDIA and Fake Corp")), (strings{"NVDA", "FAKE"}));
  EXPECT_EQ(symbols_of(m.match("英偉達")), strings{"NVDA"});
  EXPECT_TRUE(m.match("Something").entities.empty());
  EXPECT_EQ(themes_of(m.match("DeepSeek")), strings{"deepseek"});
}

TEST(HeadlineMatcherBuild, SharedAmbiguousAliasIsAllowed) {
  std::vector<entity_spec> specs(2);
  specs[0].symbol = "GOOGL";
  specs[0].ambiguous_aliases = {"Alphabet"};
  specs[1].symbol = "GOOG";
  specs[1].ambiguous_aliases = {"Alphabet"};
  std::vector<matcher_error> errors;
  const headline_matcher m(specs, {}, &errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(symbols_of(m.match("Alphabet shares climb")), (strings{"GOOGL", "GOOG"}));
  EXPECT_TRUE(m.match("Alphabet soup").entities.empty());
}

TEST(HeadlineMatcherBuild, EmptyMatcherAndMoves) {
  const headline_matcher empty({}, {});
  EXPECT_TRUE(empty.match("Nvidia shares").entities.empty());
  EXPECT_GT(empty.pattern_count(), 0u);  // the built-in market words

  headline_matcher a(universe(), themes());
  const std::size_t patterns = a.pattern_count();
  headline_matcher b(std::move(a));
  EXPECT_EQ(b.pattern_count(), patterns);
  EXPECT_EQ(symbols_of(b.match("Nvidia")), strings{"NVDA"});
  headline_matcher c({}, {});
  c = std::move(b);
  EXPECT_EQ(symbols_of(c.match("Nvidia")), strings{"NVDA"});
}

std::vector<std::string> sample_headlines() {
  return {"DeepSeek Says R1 Pre-Training Cost Just $5.58M On 2,048 Nvidia H800 GPUs Over 55 Days",
          "中國DeepSeek走紅,英偉達一天蒸發6000億美元",
          "Broadcom, Nvidia Lead Chip Rout As DeepSeek Raises Doubts Over AI Compute Demand",
          "Oracle of Omaha buys more Apple shares",
          "Amazon River cruise maker's shares fall; Amazon stock unaffected",
          "英伟达和AMD芯片",
          "$NVDA $AVGO $SU.PA",
          "Deep-Sea Explorers Seek New Funding For Mariana Trench Survey"};
}

std::string render(const match_result& r) {
  std::string s;
  for (const auto& e : r.entities) {
    s += e.symbol + "|" + to_string(e.how) + "|" + e.alias + "|" + std::to_string(e.position) + ";";
  }
  for (const auto& t : r.themes)
    s += t.theme + "|" + t.keyword + "|" + std::to_string(t.position) + ";";
  return s;
}

TEST(HeadlineMatcherBuild, Deterministic) {
  const headline_matcher a(universe(), themes());
  const headline_matcher b(universe(), themes());
  EXPECT_EQ(a.pattern_count(), b.pattern_count());
  EXPECT_EQ(a.state_count(), b.state_count());
  for (const auto& h : sample_headlines()) {
    const std::string first = render(a.match(h, {"MU"}));
    EXPECT_EQ(first, render(b.match(h, {"MU"}))) << h;
    EXPECT_EQ(first, render(a.match(h, {"MU"}))) << h;
  }
}

TEST(HeadlineMatcherBuild, ConcurrentMatchesAgree) {
  const auto headlines = sample_headlines();
  std::vector<std::string> expected;
  for (const auto& h : headlines) expected.push_back(render(matcher().match(h)));
  auto work = [&](int* mismatches) {
    for (int round = 0; round < 300; ++round) {
      for (std::size_t i = 0; i < headlines.size(); ++i) {
        if (render(matcher().match(headlines[i])) != expected[i]) ++*mismatches;
      }
    }
  };
  int m1 = 0, m2 = 0;
  std::thread t1(work, &m1);
  std::thread t2(work, &m2);
  t1.join();
  t2.join();
  EXPECT_EQ(m1 + m2, 0);
}

// Builds a 10,000-alias dictionary (a sanity check of scale and correctness; timing is
// measured outside the test suite).
TEST(HeadlineMatcherBuild, TenThousandGeneratedAliases) {
  std::vector<entity_spec> specs;
  static const char* syllables[] = {"ka", "lo",  "mi",   "ne",  "ru",  "ta",  "vo",  "xi",
                                    "ze", "por", "quin", "dra", "sel", "tor", "vex", "bri"};
  std::uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1103515245u + 12345u; };
  for (int i = 0; i < 5000; ++i) {
    entity_spec e;
    e.symbol = "S" + std::to_string(i);
    std::string name;
    for (int k = 0; k < 3; ++k) name += syllables[(next() >> 16) % 16];
    name += std::to_string(i);
    name[0] = static_cast<char>(name[0] - 32);
    e.aliases = {name, name + " Holdings"};
    specs.push_back(std::move(e));
  }
  std::vector<matcher_error> errors;
  const headline_matcher m(specs, themes(), &errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_GE(m.pattern_count(), 10000u);
  for (int i : {0, 17, 2500, 4999}) {
    const std::string alias = specs[i].aliases[1];
    const auto r = m.match("Breaking: " + alias + " soars; S0 unaffected");
    ASSERT_EQ(r.entities.size(), 1u) << alias;
    EXPECT_EQ(r.entities[0].symbol, specs[i].symbol);
    EXPECT_EQ(r.entities[0].alias, alias);  // the longer alias wins
    EXPECT_EQ(r.entities[0].position, 10u);
  }
  // Digits are word characters: "...17" must not match inside "...170".
  const std::string base = specs[17].aliases[0];
  EXPECT_TRUE(m.match(base + "0x").entities.empty());
}

// Differential check of the automaton (failure links, the dense/sparse split, the two-walk
// scan) against a brute-force search, on a dictionary large enough to have sparse states and
// texts long enough to be split.
TEST(HeadlineMatcherBuild, AgreesWithBruteForce) {
  std::uint32_t seed = 7;
  auto next = [&] { return (seed = seed * 1664525u + 1013904223u) >> 8; };
  auto word = [&](std::size_t min_len, std::size_t max_len) {
    std::string w;
    const std::size_t len = min_len + next() % (max_len - min_len + 1);
    for (std::size_t k = 0; k < len; ++k) w += static_cast<char>('a' + next() % 5);
    return w;
  };
  std::vector<entity_spec> specs;
  std::vector<std::string> aliases;
  std::set<std::string> seen;
  while (specs.size() < 4000) {
    std::string a = word(2, 10);
    if (next() % 4 == 0) a += " " + word(1, 3);
    if (!seen.insert(a).second) continue;
    entity_spec e;
    e.symbol = "E" + std::to_string(specs.size());
    e.aliases = {a};
    aliases.push_back(a);
    specs.push_back(std::move(e));
  }
  // Every letter in some pattern: wide rows, hence fewer dense states. Short, so that the
  // longest patterns are the generated ones, which the texts below contain often.
  for (const char* letters : {"fgh", "ijk", "lmn", "opq", "rst", "uvw", "xyz"}) {
    entity_spec e;
    e.symbol = "E" + std::to_string(specs.size());
    e.aliases = {letters};
    aliases.push_back(letters);
    specs.push_back(std::move(e));
  }
  std::vector<matcher_error> errors;
  const headline_matcher m(specs, {}, &errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_GT(m.state_count(), 12000u);  // well beyond the dense rows (2^18 slots / 32 classes)

  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  auto check = [&](const std::string& text) {
    std::vector<std::pair<std::size_t, std::size_t>> expected;  // (position, entity)
    for (std::size_t e = 0; e < aliases.size(); ++e) {
      const std::string& a = aliases[e];
      for (std::size_t pos = text.find(a); pos != std::string::npos; pos = text.find(a, pos + 1)) {
        const std::size_t end = pos + a.size();
        if ((pos == 0 || !is_word(text[pos - 1])) && (end == text.size() || !is_word(text[end]))) {
          expected.push_back({pos, e});
          break;
        }
      }
    }
    std::sort(expected.begin(), expected.end());
    const auto r = m.match(text);
    std::vector<std::pair<std::size_t, std::size_t>> got;
    for (const auto& e : r.entities) {
      const std::size_t index = std::stoul(e.symbol.substr(1));
      got.push_back({e.position, index});
      EXPECT_EQ(e.alias, aliases[index]);
    }
    EXPECT_EQ(got, expected) << text;
    return got == expected;
  };

  const char* separators[] = {" ", " ", " ", "-", "x", ", "};
  for (int round = 0; round < 150; ++round) {
    std::string text;
    const std::size_t target = next() % 400;
    while (text.size() < target) {
      text += next() % 2 ? aliases[next() % aliases.size()] : word(1, 8);
      text += separators[next() % 6];
    }
    ASSERT_TRUE(check(text));
  }
  // The longest alias at every offset of texts of many lengths: wherever the scan splits its
  // walks, an occurrence straddling the split is found once.
  const std::string longest =
      *std::max_element(aliases.begin(), aliases.end(),
                        [](const auto& x, const auto& y) { return x.size() < y.size(); });
  for (std::size_t length = longest.size(); length < 140; length += 7) {
    for (std::size_t offset = 0; offset + longest.size() <= length; ++offset) {
      std::string text(offset, '-');
      text += longest;
      text.resize(length, '-');
      ASSERT_TRUE(check(text));
    }
  }
}

}  // namespace
}  // namespace aftershock::rules
