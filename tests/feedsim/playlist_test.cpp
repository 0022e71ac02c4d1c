#include "feedsim/playlist.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/beast/zlib/inflate_stream.hpp>
#include <set>
#include <string>

#include "feedsim/data_frame.h"
#include "feedsim/message_deflater.h"

namespace aftershock::feedsim {
namespace {

using feeds::dialect;

feeds::capture_reader reader(const std::string& text) {
  feeds::capture_reader r;
  r.add("test", text);
  return r;
}

std::set<std::string> kinds(const playlist& p, const prepared_frame& f) {
  std::set<std::string> out;
  for (auto id : p.kinds(f)) out.emplace(p.kind_name(id));
  return out;
}

// A permessage-deflate payload back to the message, as a client inflates it.
std::string inflate(std::string_view payload) {
  namespace zlib = boost::beast::zlib;
  zlib::inflate_stream z;
  z.reset(15);
  std::string in(payload);
  in.append("\x00\x00\xff\xff", 4);
  std::string out(in.size() * 20 + 1024, '\0');
  zlib::z_params zs;
  zs.next_in = in.data();
  zs.avail_in = in.size();
  zs.next_out = out.data();
  zs.avail_out = out.size();
  boost::beast::error_code ec;
  z.write(zs, zlib::Flush::sync, ec);
  EXPECT_TRUE(!ec || ec == zlib::error::need_buffers) << ec.message();
  out.resize(zs.total_out);
  return out;
}

const std::string k_capture =
    R"({"at":"2025-01-27T14:30:00.000Z","feed":"alpaca-stocks","frame":[{"T":"success","msg":"connected"}]})"
    "\n"
    R"({"at":"2025-01-27T14:30:00.100Z","feed":"alpaca-stocks","frame":[{"T":"t","S":"NVDA","p":1},{"T":"q","S":"AAPL"},{"T":"t","S":"AAPL"}]})"
    "\n"
    R"({"at":"2025-01-27T14:30:00.200Z","feed":"alpaca-stocks","frame":[{"T":"t","S":"NVDA"},{"T":"error","code":1}]})"
    "\n"
    R"({"at":"2025-01-27T14:30:00.300Z","feed":"generic","raw":"not json at all"})"
    "\n"
    R"({"at":"2025-01-27T14:30:00.400Z","feed":"binance","frame":{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT"}}})"
    "\n"
    R"({"at":"2025-01-27T14:30:00.500Z","feed":"alpaca-news","frame":[{"T":"n","symbols":["NVDA"]}]})"
    "\n";

TEST(Playlist, KeepsFramesWithDataAndWhatRoutingNeeds) {
  playlist p = playlist::build(reader(k_capture), playlist_options{});
  EXPECT_EQ(p.stats().records, 6u);
  EXPECT_EQ(p.stats().skipped_control, 1u);  // the greeting: the simulator makes its own
  ASSERT_EQ(p.frames().size(), 5u);
  const auto& f = p.frames();

  EXPECT_EQ(f[0].feed, dialect::alpaca_stocks);
  EXPECT_EQ(f[0].received, rules::parse_rfc3339("2025-01-27T14:30:00.100Z").value());
  EXPECT_EQ(f[0].text, R"([{"T":"t","S":"NVDA","p":1},{"T":"q","S":"AAPL"},{"T":"t","S":"AAPL"}])");
  EXPECT_TRUE(f[0].all_data);
  EXPECT_FALSE(f[0].opaque);
  EXPECT_EQ(kinds(p, f[0]), (std::set<std::string>{"t", "q"}));
  EXPECT_EQ(f[0].kinds_count, 2u);  // distinct
  EXPECT_TRUE(f[0].deflated.empty());

  EXPECT_FALSE(f[1].all_data);  // the error element is never forwarded
  EXPECT_EQ(kinds(p, f[1]), (std::set<std::string>{"t"}));

  EXPECT_EQ(f[2].feed, dialect::generic);
  EXPECT_TRUE(f[2].opaque);
  EXPECT_EQ(f[2].text, "not json at all");  // a `raw` record: kept by the playlist

  EXPECT_EQ(f[3].feed, dialect::binance);
  EXPECT_TRUE(f[3].binance_wrapped);
  EXPECT_EQ(kinds(p, f[3]), (std::set<std::string>{"btcusdt@trade"}));

  EXPECT_EQ(kinds(p, f[4]), (std::set<std::string>{"n"}));
  EXPECT_EQ(p.deflate_level(), 0);
}

TEST(Playlist, LeavesOutRecordsBeforeFrom) {
  playlist_options opt;
  opt.from = rules::parse_rfc3339("2025-01-27T14:30:00.300Z").value();
  playlist p = playlist::build(reader(k_capture), opt);
  EXPECT_EQ(p.stats().skipped_before_from, 3u);
  ASSERT_EQ(p.frames().size(), 3u);
  EXPECT_EQ(p.frames()[0].feed, dialect::generic);
}

TEST(Playlist, CompressedFramesInflateToTheCapturedBytes) {
  playlist_options opt;
  opt.deflate = true;
  playlist p = playlist::build(reader(k_capture), opt);
  EXPECT_EQ(p.deflate_level(), 1);
  EXPECT_EQ(p.deflate_window_bits(), 15);
  ASSERT_EQ(p.stats().deflated_frames, p.frames().size());
  for (const auto& f : p.frames()) {
    ASSERT_FALSE(f.deflated.empty());
    EXPECT_EQ(inflate(f.deflated), f.text);
  }
}

// Enough frames for several threads: the same playlist as one thread makes.
TEST(Playlist, ThreadsMakeTheSamePlaylist) {
  std::string capture;
  const char* kinds_cycle[] = {"t", "q", "b", "d", "s"};
  for (int i = 0; i < 20000; ++i) {
    char at[64];
    std::snprintf(at, sizeof at, "2025-01-27T14:%02d:%02d.%03dZ", 30 + i / 60000, (i / 1000) % 60,
                  i % 1000);
    std::string frame = "[";
    for (int e = 0; e <= i % 4; ++e) {
      if (e) frame += ',';
      frame += std::string(R"({"T":")") + kinds_cycle[(i + e) % 5] + R"(","S":"S)" +
               std::to_string(i % 17) + R"(","n":)" + std::to_string(i) + "}";
    }
    frame += "]";
    if (i % 1000 == 3) frame = R"([{"T":"subscription"}])";
    capture +=
        std::string(R"({"at":")") + at + R"(","feed":"alpaca-stocks","frame":)" + frame + "}\n";
  }
  playlist_options one;
  one.deflate = true;
  one.threads = 1;
  playlist_options three = one;
  three.threads = 3;
  const playlist a = playlist::build(reader(capture), one);
  const playlist b = playlist::build(reader(capture), three);
  EXPECT_EQ(a.stats().threads, 1u);
  EXPECT_EQ(b.stats().threads, 3u);
  EXPECT_EQ(a.stats().skipped_control, 20u);
  ASSERT_EQ(a.frames().size(), b.frames().size());
  for (std::size_t i = 0; i < a.frames().size(); ++i) {
    const auto& x = a.frames()[i];
    const auto& y = b.frames()[i];
    ASSERT_EQ(x.text, y.text) << i;
    ASSERT_EQ(x.deflated, y.deflated) << i;
    ASSERT_EQ(x.received, y.received) << i;
    ASSERT_EQ(x.all_data, y.all_data) << i;
    ASSERT_EQ(kinds(a, x), kinds(b, y)) << i;
  }
  EXPECT_EQ(inflate(b.frames().back().deflated), b.frames().back().text);
}

TEST(MessageDeflater, EachMessageStandsAlone) {
  message_deflater d;
  std::string first, again, other;
  const std::string text = R"([{"T":"t","S":"NVDA","p":120.5},{"T":"t","S":"NVDA","p":120.5}])";
  ASSERT_TRUE(d.deflate(text, 1, 15, first));
  ASSERT_TRUE(d.deflate("something else entirely", 1, 15, other));
  ASSERT_TRUE(d.deflate(text, 1, 15, again));
  EXPECT_EQ(first, again);  // no history carried over
  EXPECT_EQ(inflate(first), text);
  EXPECT_FALSE(d.deflate("", 1, 15, first));
}

}  // namespace
}  // namespace aftershock::feedsim
