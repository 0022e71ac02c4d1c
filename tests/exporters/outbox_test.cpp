#include "exporters/outbox.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "exporters/alert_codec.h"
#include "test_alerts.h"

namespace aftershock::exporters {
namespace {

namespace fs = std::filesystem;
using aftershock::testing::hostile_alert;
using aftershock::testing::nvda_alert;

rules::alert make(const std::string& id, rules::severity level = rules::severity::warning) {
  rules::alert a = nvda_alert(id);
  a.level = level;
  return a;
}

std::vector<std::uint64_t> seqs(const std::vector<outbox_item>& items) {
  std::vector<std::uint64_t> out;
  for (const auto& i : items) out.push_back(i.seq);
  return out;
}

std::vector<std::string> ids(const std::vector<outbox_item>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.alert->id);
  return out;
}

class outbox_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::path(::testing::TempDir()) /
            ("outbox-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<outbox> open(std::vector<std::string> names = {"slack", "discord"},
                               outbox_options o = {}) {
    o.dir = dir_;
    std::string error;
    auto box = outbox::open(o, std::move(names), &error);
    EXPECT_TRUE(box) << error;
    return box;
  }

  std::string dir_;
};

TEST(alert_codec, round_trips_every_field) {
  rules::alert a = hostile_alert();
  a.facts = {{"z", 3.5}, {"volume", 1e6}};
  a.follow_up_of = "abc";
  a.status = rules::alert_status::resolved;
  std::string bytes;
  encode_alert(a, bytes);
  const auto b = decode_alert(bytes);
  ASSERT_TRUE(b);
  EXPECT_EQ(rules::to_json(*b), rules::to_json(a));
  EXPECT_FALSE(decode_alert(std::string_view(bytes).substr(0, bytes.size() - 1)));
  EXPECT_FALSE(decode_alert(bytes + "x"));
}

TEST_F(outbox_test, delivers_in_order_and_forgets_completed_alerts) {
  auto box = open();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(box->append(make("a" + std::to_string(i)), 0b11), append_result::queued);
  box->flush();
  auto items = box->peek(0, 3);
  EXPECT_EQ(ids(items), (std::vector<std::string>{"a0", "a1", "a2"}));
  box->complete(0, seqs(items), true);
  EXPECT_EQ(ids(box->peek(0, 10)), (std::vector<std::string>{"a3", "a4"}));
  EXPECT_EQ(box->pending(0), 2u);
  EXPECT_EQ(box->pending(1), 5u);
  EXPECT_EQ(box->stats().depth, 5u);  // discord still waits for all five
  box->complete(1, seqs(box->peek(1, 10)), true);
  EXPECT_EQ(box->stats().depth, 2u);
}

TEST_F(outbox_test, nothing_is_offered_before_it_is_synced) {
  outbox_options o;
  o.commit_interval = std::chrono::milliseconds(500);  // the second sync waits this long
  o.commit_batch = 1000000;
  auto box = open({"slack"}, o);
  box->append(make("first"), 1);
  box->flush();
  box->append(make("second"), 1);
  EXPECT_EQ(ids(box->peek(0, 10)), (std::vector<std::string>{"first"}));
  box->flush();
  EXPECT_EQ(ids(box->peek(0, 10)), (std::vector<std::string>{"first", "second"}));
}

TEST_F(outbox_test, undelivered_alerts_are_recovered_after_restart) {
  {
    auto box = open();
    for (int i = 0; i < 5; ++i) box->append(make("r" + std::to_string(i)), 0b11);
    box->append(hostile_alert(), 0b01);
    box->flush();
    box->complete(0, seqs(box->peek(0, 2)), true);  // slack got r0, r1
  }
  auto box = open();
  EXPECT_EQ(box->stats().recovered, 6u);
  EXPECT_EQ(ids(box->peek(0, 10)),
            (std::vector<std::string>{"r2", "r3", "r4", "hostile0000000001"}));
  EXPECT_EQ(box->pending(1), 5u);
  const auto items = box->peek(0, 10);
  EXPECT_EQ(items.back().alert->headlines[0].headline, hostile_alert().headlines[0].headline);
  // Ids are idempotency keys: publishing a recovered alert again does not queue it twice.
  EXPECT_EQ(box->append(make("r3"), 0b11), append_result::duplicate);
  EXPECT_EQ(box->stats().duplicates, 1u);
}

TEST_F(outbox_test, restart_with_changed_destinations_keeps_what_still_exists) {
  {
    auto box = open({"slack", "discord"});
    box->append(make("x1"), 0b11);
    box->append(make("x2"), 0b10);
    box->flush();
  }
  auto box = open({"discord", "teams"});
  EXPECT_EQ(box->pending(0), 2u);                 // discord
  EXPECT_EQ(box->pending(1), 0u);                 // teams is new
  EXPECT_EQ(box->stats().recovered_orphans, 1u);  // x1 was also for slack, gone now
}

TEST_F(outbox_test, overflow_drops_oldest_low_severity_first) {
  outbox_options o;
  o.max_alerts = 3;
  auto box = open({"slack"}, o);
  using rules::severity;
  EXPECT_EQ(box->append(make("info1", severity::info), 1), append_result::queued);
  EXPECT_EQ(box->append(make("warn1", severity::warning), 1), append_result::queued);
  EXPECT_EQ(box->append(make("crit1", severity::critical), 1), append_result::queued);
  EXPECT_EQ(box->append(make("warn2", severity::warning), 1), append_result::queued);   // -info1
  EXPECT_EQ(box->append(make("crit2", severity::critical), 1), append_result::queued);  // -warn1
  EXPECT_EQ(box->append(make("info2", severity::info), 1), append_result::dropped);     // itself
  box->flush();
  EXPECT_EQ(ids(box->peek(0, 10)), (std::vector<std::string>{"crit1", "warn2", "crit2"}));
  const outbox_stats s = box->stats();
  EXPECT_EQ(s.dropped_overflow[0], 2u);
  EXPECT_EQ(s.dropped_overflow[1], 1u);
  EXPECT_EQ(s.dropped_overflow[2], 0u);
  box.reset();
  auto again = open({"slack"}, o);  // drops are journaled: they do not come back
  EXPECT_EQ(ids(again->peek(0, 10)), (std::vector<std::string>{"crit1", "warn2", "crit2"}));
}

TEST_F(outbox_test, byte_bound_is_enforced_too) {
  outbox_options o;
  std::string one;
  encode_alert(make("b0"), one);
  o.max_bytes = one.size() * 2 + 10;  // room for two
  auto box = open({"slack"}, o);
  for (int i = 0; i < 4; ++i) box->append(make("b" + std::to_string(i)), 1);
  box->flush();
  EXPECT_EQ(ids(box->peek(0, 10)), (std::vector<std::string>{"b2", "b3"}));
  EXPECT_LE(box->stats().bytes, o.max_bytes);
}

TEST_F(outbox_test, compaction_keeps_only_what_is_waiting) {
  outbox_options o;
  o.compact_min_bytes = 64 << 10;
  {
    auto box = open({"slack"}, o);
    for (int i = 0; i < 400; ++i) {
      box->append(make("c" + std::to_string(i)), 1);
      box->flush();
      if (i < 390) box->complete(0, seqs(box->peek(0, 1)), true);
    }
    box->flush();
    box->close();
    EXPECT_GE(box->stats().journal.rewrites, 1u);
  }
  EXPECT_LT(fs::file_size(dir_ + "/outbox.journal"), 128u << 10);  // vs ~300 KiB written
  auto box = open({"slack"}, o);
  EXPECT_EQ(box->pending(0), 10u);
  EXPECT_EQ(box->peek(0, 1).front().alert->id, "c390");
}

TEST_F(outbox_test, torn_tail_after_a_crash_is_skipped) {
  {
    auto box = open({"slack"});
    for (int i = 0; i < 3; ++i) box->append(make("t" + std::to_string(i)), 1);
    box->flush();
  }
  fs::resize_file(dir_ + "/outbox.journal", fs::file_size(dir_ + "/outbox.journal") - 5);
  auto box = open({"slack"});
  EXPECT_EQ(ids(box->peek(0, 10)), (std::vector<std::string>{"t0", "t1"}));
  EXPECT_EQ(box->stats().torn_tails, 1u);
}

TEST_F(outbox_test, memory_only_mode_offers_alerts_at_once) {
  std::string error;
  auto box = outbox::open(outbox_options{}, {"console"}, &error);
  ASSERT_TRUE(box);
  std::uint64_t woken = 0;
  box->set_ready_listener([&](std::uint64_t mask) { woken |= mask; });
  box->append(make("m1"), 1);
  EXPECT_EQ(woken, 1u);
  EXPECT_EQ(box->peek(0, 10).size(), 1u);
  EXPECT_FALSE(box->stats().durable);
  EXPECT_EQ(box->append(make("m2"), 0), append_result::unrouted);
}

}  // namespace
}  // namespace aftershock::exporters
