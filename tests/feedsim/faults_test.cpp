#include "feedsim/faults.h"

#include <gtest/gtest.h>

#include "feedsim/json_value.h"

namespace aftershock::feedsim {
namespace {

using actions = std::vector<fault_action>;

actions after(fault_plan& plan) {
  actions out;
  plan.after_data_frame(out);
  return out;
}

TEST(FaultPlan, NothingConfiguredNothingHappens) {
  fault_plan plan(fault_options{}, 1);
  EXPECT_FALSE(plan.active());
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(after(plan).empty());
  EXPECT_FALSE(plan.finished());
}

TEST(FaultPlan, DropAfterN) {
  fault_options o;
  o.drop_after = 3;
  fault_plan plan(o, 1);
  EXPECT_TRUE(after(plan).empty());
  EXPECT_TRUE(after(plan).empty());
  EXPECT_EQ(after(plan), (actions{fault_action::drop}));
  EXPECT_TRUE(plan.finished());
  EXPECT_TRUE(after(plan).empty());
}

TEST(FaultPlan, GarbageAndOversizeRepeatThenStall) {
  fault_options o;
  o.garbage_every = 2;
  o.oversize_every = 3;
  o.stall_after = 6;
  fault_plan plan(o, 1);
  EXPECT_TRUE(after(plan).empty());                                // 1
  EXPECT_EQ(after(plan), (actions{fault_action::garbage}));         // 2
  EXPECT_EQ(after(plan), (actions{fault_action::oversize}));        // 3
  EXPECT_EQ(after(plan), (actions{fault_action::garbage}));         // 4
  EXPECT_TRUE(after(plan).empty());                                // 5
  EXPECT_EQ(after(plan), (actions{fault_action::garbage, fault_action::oversize,
                                  fault_action::stall}));           // 6
}

TEST(FaultPlan, OnlyTheFirstKConnections) {
  fault_options o;
  o.drop_after = 1;
  o.reject_auth = true;
  o.connections = 1;
  fault_plan first(o, 1), second(o, 2);
  EXPECT_TRUE(first.active());
  EXPECT_TRUE(first.reject_auth());
  EXPECT_FALSE(second.active());
  EXPECT_FALSE(second.reject_auth());
  EXPECT_TRUE(after(second).empty());
  o.connections = 0;  // every connection, each counting afresh
  fault_plan again(o, 7);
  EXPECT_EQ(after(again), (actions{fault_action::drop}));
}

TEST(FaultFrames, GarbageIsNotJsonOrMsgpack) {
  EXPECT_FALSE(parse_json(garbage_frame(false)));
  EXPECT_EQ(garbage_frame(true), std::string(1, static_cast<char>(0xc1)));
}

TEST(FaultFrames, OversizeFramesAreExactlyThatBigAndValid) {
  for (auto d : {feeds::dialect::alpaca_stocks, feeds::dialect::polygon_stocks,
                 feeds::dialect::finnhub, feeds::dialect::binance, feeds::dialect::generic}) {
    const std::string f = oversize_frame(d, 1000);
    EXPECT_EQ(f.size(), 1000u);
    EXPECT_TRUE(parse_json(f)) << f.substr(0, 40);
    EXPECT_NE(f.find("feedsim_padding"), std::string::npos);
  }
}

TEST(FaultFrames, ServerShutdown) {
  EXPECT_EQ(server_shutdown_frame(false, 1'737'988'200'123'000'000),
            R"({"e":"serverShutdown","E":1737988200123})");
  EXPECT_EQ(server_shutdown_frame(true, 0),
            R"({"stream":"!serverShutdown","data":{"e":"serverShutdown","E":0}})");
}

}  // namespace
}  // namespace aftershock::feedsim
