#include "exporters/journal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace aftershock::exporters {
namespace {

namespace fs = std::filesystem;

class journal_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("journal-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "j").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<journal> open(std::vector<std::string>& seen, journal_recovery& rec) {
    journal_options o;
    o.path = path_;
    std::string error;
    auto j = journal::open(
        o, [&](std::string_view p) { seen.emplace_back(p); }, rec, &error);
    EXPECT_TRUE(j) << error;
    return j;
  }

  std::uintmax_t size() const { return fs::file_size(path_); }

  fs::path dir_;
  std::string path_;
};

TEST_F(journal_test, records_survive_reopen_in_order) {
  std::vector<std::string> seen;
  journal_recovery rec;
  {
    auto j = open(seen, rec);
    for (int i = 0; i < 100; ++i) j->append("record-" + std::to_string(i));
    j->wait_durable(j->appended_lsn());
    EXPECT_EQ(j->durable_lsn(), 100u);
  }
  seen.clear();
  auto j = open(seen, rec);
  ASSERT_EQ(seen.size(), 100u);
  EXPECT_EQ(seen.front(), "record-0");
  EXPECT_EQ(seen.back(), "record-99");
  EXPECT_FALSE(rec.torn);
  EXPECT_EQ(rec.records, 100u);
}

TEST_F(journal_test, group_commit_syncs_many_records_at_once) {
  std::vector<std::string> seen;
  journal_recovery rec;
  auto j = open(seen, rec);
  for (int i = 0; i < 5000; ++i) j->append(std::string(100, 'x'));
  j->wait_durable(j->appended_lsn());
  const journal_stats s = j->stats();
  EXPECT_EQ(s.durable, 5000u);
  EXPECT_LT(s.fsyncs, 5000u / 10);  // batches, not one sync per record
  EXPECT_GE(s.fsyncs, 1u);
}

TEST_F(journal_test, torn_last_record_is_detected_skipped_and_cut) {
  std::vector<std::string> seen;
  journal_recovery rec;
  {
    auto j = open(seen, rec);
    for (int i = 0; i < 10; ++i) j->append("payload-" + std::to_string(i));
    j->close();
  }
  const auto full = size();
  fs::resize_file(path_, full - 3);  // the crash hit in the middle of the last record
  seen.clear();
  {
    auto j = open(seen, rec);
    EXPECT_EQ(seen.size(), 9u);
    EXPECT_TRUE(rec.torn);
    EXPECT_EQ(rec.torn_reason, "record longer than the file");
    EXPECT_EQ(rec.torn_bytes, std::string("payload-9").size() + 8 - 3);
    j->append("after");
    j->close();
  }
  seen.clear();
  auto j = open(seen, rec);
  ASSERT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen.back(), "after");
  EXPECT_FALSE(rec.torn);
}

TEST_F(journal_test, checksum_mismatch_in_the_last_record) {
  std::vector<std::string> seen;
  journal_recovery rec;
  {
    auto j = open(seen, rec);
    j->append("first");
    j->append("second");
  }
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('X');  // a sector that never made it: same length, wrong bytes
  }
  seen.clear();
  auto j = open(seen, rec);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "first");
  EXPECT_TRUE(rec.torn);
  EXPECT_EQ(rec.torn_reason, "checksum mismatch");
}

TEST_F(journal_test, short_header_starts_over_and_foreign_files_are_refused) {
  { std::ofstream(path_, std::ios::binary) << "AFS"; }
  std::vector<std::string> seen;
  journal_recovery rec;
  {
    auto j = open(seen, rec);
    EXPECT_TRUE(rec.torn);
    EXPECT_EQ(rec.torn_reason, "short header");
  }
  { std::ofstream(path_, std::ios::binary) << "NOTAJOURNAL-AT-ALL"; }
  journal_options o;
  o.path = path_;
  std::string error;
  EXPECT_FALSE(journal::open(
      o, [](std::string_view) {}, rec, &error));
  EXPECT_NE(error.find("bad header"), std::string::npos);
}

TEST_F(journal_test, compaction_replaces_the_file_with_a_snapshot) {
  std::vector<std::string> seen;
  journal_recovery rec;
  {
    auto j = open(seen, rec);
    for (int i = 0; i < 1000; ++i) j->append(std::string(200, 'g'));
    j->wait_durable(j->appended_lsn());
    const auto before = size();
    j->set_snapshot_provider([](journal& jj) -> std::optional<std::string> {
      std::string body;
      journal::frame(body, "live-1");
      journal::frame(body, "live-2");
      jj.take_pending_for_rewrite();
      return body;
    });
    j->request_compaction();
    j->close();  // the committer compacts before it stops
    EXPECT_LT(size(), before / 10);
    EXPECT_EQ(j->stats().rewrites, 1u);
  }
  seen.clear();
  auto j = open(seen, rec);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "live-1");
  EXPECT_EQ(seen[1], "live-2");
  EXPECT_FALSE(rec.torn);
  EXPECT_FALSE(fs::exists(path_ + ".compact"));
}

TEST(crc32c, known_vector) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // the standard CRC-32C check value
}

}  // namespace
}  // namespace aftershock::exporters
