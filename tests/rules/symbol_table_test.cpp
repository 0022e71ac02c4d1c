// The engine's symbol interning table: dense stable indexes, long keys, growth, lookups of
// symbols never inserted.
#include "rules/symbol_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aftershock::rules {
namespace {

TEST(SymbolTable, GivesDenseIndexesInFirstSeenOrder) {
  symbol_table t;
  EXPECT_EQ(t.insert("NVDA"), (std::pair<std::uint32_t, bool>{0, true}));
  EXPECT_EQ(t.insert("AVGO"), (std::pair<std::uint32_t, bool>{1, true}));
  EXPECT_EQ(t.insert("NVDA"), (std::pair<std::uint32_t, bool>{0, false}));
  EXPECT_EQ(t.find("AVGO"), 1u);
  EXPECT_EQ(t.find("VST"), symbol_table::npos);
  EXPECT_EQ(t.name(1), "AVGO");
  EXPECT_EQ(t.size(), 2u);
}

TEST(SymbolTable, TellsApartPrefixesEmptyAndLongKeys) {
  symbol_table t;
  const std::vector<std::string> keys = {"", "A", "AA", "AAPL", "AAPL.US",
                                         "O:AAPL250117C00150000",  // longer than the inline key
                                         "O:AAPL250117C00150001", "BTCUSDT", "300750.XSHE"};
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(t.insert(keys[i]).first, i) << keys[i];
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(t.find(keys[i]), i) << keys[i];
  EXPECT_EQ(t.find("AAP"), symbol_table::npos);
  EXPECT_EQ(t.find("O:AAPL250117C00150002"), symbol_table::npos);
}

TEST(SymbolTable, KeepsEveryIndexThroughGrowth) {
  symbol_table t;
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(t.insert("S" + std::to_string(i)).first, static_cast<std::uint32_t>(i));
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(t.find("S" + std::to_string(i)), static_cast<std::uint32_t>(i));
  EXPECT_EQ(t.find("S20000"), symbol_table::npos);
}

}  // namespace
}  // namespace aftershock::rules
