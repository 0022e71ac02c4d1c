// Unit tests for feeds::capture_writer: the capture v1 line format, hourly rotation, frames
// that are not JSON (or span lines) kept byte-exact as `raw`, and the round trip through
// capture_reader and the dialect parsers, which is what `replay` does.
#include "feeds/capture_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "feeds/capture_reader.h"

namespace aftershock::feeds {
namespace {

rules::time_ns at(const char* rfc3339) { return rules::parse_rfc3339(rfc3339).value(); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class capture_writer_test : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "capture_writer_" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  std::string dir_;
};

TEST(capture_writer_format, json_frames_verbatim_others_raw) {
  EXPECT_EQ(capture_writer::format_line(at("2025-01-27T14:30:00.04Z"), dialect::alpaca_stocks,
                                        R"([{"T":"t","S":"NVDA"}])", false),
            R"({"at":"2025-01-27T14:30:00.040Z","feed":"alpaca-stocks","frame":[{"T":"t","S":"NVDA"}]})");
  EXPECT_EQ(capture_writer::format_line(at("2025-01-27T14:30:00Z"), dialect::finnhub,
                                        "not \"json\"\n", true),
            R"({"at":"2025-01-27T14:30:00.000Z","feed":"finnhub","raw":"not \"json\"\n"})");
}

TEST_F(capture_writer_test, rotates_hourly_and_names_files_by_feed) {
  capture_writer w(dir_ + "/", "alpaca stocks/sip", dialect::alpaca_stocks);
  EXPECT_TRUE(w.write(at("2025-01-27T14:59:59.999Z"), R"([{"T":"success","msg":"connected"}])", true));
  const std::string first = w.current_path();
  EXPECT_EQ(first, dir_ + "/alpaca_stocks_sip-2025-01-27T14.ndjson");
  EXPECT_TRUE(w.write(at("2025-01-27T15:00:00Z"), R"([{"T":"success","msg":"authenticated"}])", true));
  EXPECT_EQ(w.current_path(), dir_ + "/alpaca_stocks_sip-2025-01-27T15.ndjson");
  w.flush();
  EXPECT_EQ(w.lines(), 2u);
  EXPECT_EQ(w.errors(), 0u);
  EXPECT_EQ(read_file(first),
            "{\"at\":\"2025-01-27T14:59:59.999Z\",\"feed\":\"alpaca-stocks\",\"frame\":"
            "[{\"T\":\"success\",\"msg\":\"connected\"}]}\n");
}

TEST_F(capture_writer_test, appends_after_a_restart_within_the_hour) {
  {
    capture_writer w(dir_, "f", dialect::generic);
    w.write(at("2025-01-27T14:00:01Z"), R"({"a":1})", std::nullopt);
  }
  {
    capture_writer w(dir_, "f", dialect::generic);
    w.write(at("2025-01-27T14:00:02Z"), R"({"a":2})", std::nullopt);
  }
  const std::string text = read_file(dir_ + "/f-2025-01-27T14.ndjson");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST_F(capture_writer_test, unwritable_directory_is_counted_not_thrown) {
  capture_writer w(dir_ + "/missing/deeper", "f", dialect::generic);
  EXPECT_FALSE(w.write(at("2025-01-27T14:00:01Z"), "{}", true));
  EXPECT_EQ(w.errors(), 1u);
}

TEST_F(capture_writer_test, replay_reads_back_exactly_what_was_received) {
  const std::vector<std::string> frames = {
      R"([{"T":"success","msg":"connected"}])",
      R"([{"T":"t","S":"NVDA","i":1,"x":"V","p":120.5,"s":10,"t":"2025-01-27T14:30:00.123456789Z"}])",
      "[{\"T\":\"t\",\n \"S\":\"AMD\",\"i\":2,\"x\":\"V\",\"p\":110,\"s\":5,\"t\":\"2025-01-27T14:30:01Z\"}]",
      "garbage that is not JSON \xE2\x82\xAC",
      R"([{"T":"t","S":"NVDA","p":1,"c":[1,2,x]}])",  // invalid inside a value on-demand skips
      R"([{"T":"b","S":"NVDA","o":1,"h":2,"l":0.5,"c":1.5,"v":100,"t":"2025-01-27T14:31:00Z"}])",
  };
  {
    capture_writer w(dir_, "alpaca", dialect::alpaca_stocks);
    rules::time_ns t = at("2025-01-27T14:30:00Z");
    for (const std::string& f : frames) {
      ASSERT_TRUE(w.write(t, f, std::nullopt));
      t += rules::k_ns_per_ms;
    }
  }
  capture_reader reader;
  reader.add("recorded", read_file(dir_ + "/alpaca-2025-01-27T14.ndjson"));
  capture_record r;
  std::vector<std::string> back;
  frame_parser live(dialect::alpaca_stocks), replayed(dialect::alpaca_stocks);
  std::size_t i = 0;
  while (reader.next(r)) {
    back.emplace_back(r.frame);
    ASSERT_LT(i, frames.size());
    EXPECT_EQ(r.feed, dialect::alpaca_stocks);
    EXPECT_EQ(r.received, at("2025-01-27T14:30:00Z") + static_cast<rules::time_ns>(i) * rules::k_ns_per_ms);
    // The replayed frame parses exactly as the live one did.
    std::vector<rules::event> a, b;
    const parse_result pa = live.parse(frames[i], a);
    const parse_result pb = replayed.parse(r.frame, b);
    EXPECT_EQ(pa.events, pb.events) << i;
    EXPECT_EQ(pa.rejected, pb.rejected) << i;
    EXPECT_EQ(pa.error, pb.error) << i;
    EXPECT_EQ(pa.controls.size(), pb.controls.size()) << i;
    ++i;
  }
  EXPECT_EQ(reader.stats().bad_lines, 0u);
  ASSERT_EQ(back.size(), frames.size());
  // Byte-exact for JSON frames and for raw ones; on one line each.
  for (std::size_t k = 0; k < frames.size(); ++k) EXPECT_EQ(back[k], frames[k]) << k;
}

TEST(capture_writer_json, validation) {
  EXPECT_TRUE(is_valid_json(R"({"a":[1,2]})"));
  EXPECT_TRUE(is_valid_json("[]"));
  EXPECT_FALSE(is_valid_json(R"({"a":[1,2,x]})"));
  EXPECT_FALSE(is_valid_json("[1]]"));
  EXPECT_FALSE(is_valid_json(""));
  EXPECT_FALSE(is_valid_json("\xff"));
}

}  // namespace
}  // namespace aftershock::feeds
