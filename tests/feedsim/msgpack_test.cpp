#include "feedsim/msgpack.h"

#include <gtest/gtest.h>

#include "feedsim/json_value.h"

namespace aftershock::feedsim {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

std::string write(void (*f)(msgpack_writer&)) {
  std::string out;
  msgpack_writer w(out);
  f(w);
  return out;
}

TEST(JsonValue, ParsesAndSerialisesRequests) {
  auto v = parse_json(R"({"action":"subscribe","trades":["NVDA","AAPL"],"id":7,"x":1.5,"n":null,"b":true})");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->string_field("action"), "subscribe");
  ASSERT_NE(v->find("trades"), nullptr);
  EXPECT_EQ(v->find("trades")->items.size(), 2u);
  EXPECT_EQ(v->find("id")->integer, 7);
  EXPECT_EQ(to_json(*v),
            R"({"action":"subscribe","trades":["NVDA","AAPL"],"id":7,"x":1.5,"n":null,"b":true})");
}

TEST(JsonValue, RefusesInvalidAndDeepDocuments) {
  std::string error;
  EXPECT_FALSE(parse_json("{\"a\":", &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(parse_json("{} {}"));
  EXPECT_FALSE(parse_json(std::string(40, '[') + std::string(40, ']')));
}

TEST(JsonValue, EscapesStrings) {
  std::string out;
  append_json_string(out, "a\"b\\c\n\x01é");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001é\"");
}

TEST(MsgpackWriter, UsesTheSmallestIntegerEncodings) {
  EXPECT_EQ(write([](msgpack_writer& w) { w.integer(5); }), bytes({0x05}));
  EXPECT_EQ(write([](msgpack_writer& w) { w.integer(-3); }), bytes({0xfd}));
  EXPECT_EQ(write([](msgpack_writer& w) { w.integer(200); }), bytes({0xcc, 200}));
  EXPECT_EQ(write([](msgpack_writer& w) { w.integer(-100); }), bytes({0xd0, 0x9c}));
  EXPECT_EQ(write([](msgpack_writer& w) { w.integer(70000); }),
            bytes({0xce, 0x00, 0x01, 0x11, 0x70}));
  EXPECT_EQ(write([](msgpack_writer& w) { w.integer(-40000); }),
            bytes({0xd2, 0xff, 0xff, 0x63, 0xc0}));
  EXPECT_EQ(write([](msgpack_writer& w) { w.unsigned_integer(1ull << 40); }),
            bytes({0xcf, 0, 0, 1, 0, 0, 0, 0, 0}));
}

TEST(MsgpackWriter, EncodesStringsContainersAndFloats) {
  EXPECT_EQ(write([](msgpack_writer& w) { w.string("T"); }), bytes({0xa1, 'T'}));
  EXPECT_EQ(write([](msgpack_writer& w) { w.string(std::string(40, 'x')); }).substr(0, 2),
            bytes({0xd9, 40}));
  EXPECT_EQ(write([](msgpack_writer& w) { w.array_header(3); }), bytes({0x93}));
  EXPECT_EQ(write([](msgpack_writer& w) { w.array_header(20); }), bytes({0xdc, 0, 20}));
  EXPECT_EQ(write([](msgpack_writer& w) { w.map_header(2); }), bytes({0x82}));
  EXPECT_EQ(write([](msgpack_writer& w) { w.float64(1.5); }),
            bytes({0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(write([](msgpack_writer& w) { w.nil(); }), bytes({0xc0}));
}

TEST(MsgpackWriter, PicksTheTimestampFormat) {
  // Whole seconds that fit 32 bits: timestamp 32.
  EXPECT_EQ(write([](msgpack_writer& w) { w.timestamp(1'737'988'200 * rules::k_ns_per_s); }),
            bytes({0xd6, 0xff, 0x67, 0x97, 0x98, 0x68}));
  // Nanoseconds: timestamp 64 (nsec << 34 | sec).
  const std::string ts64 =
      write([](msgpack_writer& w) { w.timestamp(1'737'988'200 * rules::k_ns_per_s + 5); });
  ASSERT_EQ(ts64.size(), 10u);
  EXPECT_EQ(ts64.substr(0, 2), bytes({0xd7, 0xff}));
  // Before 1970: timestamp 96.
  const std::string ts96 = write([](msgpack_writer& w) { w.timestamp(-1); });
  ASSERT_EQ(ts96.size(), 15u);
  EXPECT_EQ(ts96.substr(0, 3), bytes({0xc7, 12, 0xff}));
  auto back = decode_msgpack(ts96);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->string, "1969-12-31T23:59:59.999999999Z");
}

TEST(JsonToMsgpack, ConvertsAnAlpacaTradeWithTimestampAndFloatPrice) {
  json_to_msgpack enc;
  std::string out;
  ASSERT_TRUE(enc.encode(
      R"({"T":"t","S":"NVDA","i":1,"p":120,"s":100,"c":["@"],"t":"2025-01-27T14:30:00.095123456Z"})",
      out));
  // Decoding gives the same keys; `t` comes back as a full-precision time, `p` as a float.
  auto v = decode_msgpack(out);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->string_field("S"), "NVDA");
  EXPECT_EQ(v->find("i")->type, json_value::kind::integer);
  EXPECT_EQ(v->find("p")->type, json_value::kind::number);
  EXPECT_EQ(v->find("p")->number, 120.0);
  EXPECT_EQ(v->find("s")->type, json_value::kind::integer);
  EXPECT_EQ(v->find("c")->items.at(0).string, "@");
  EXPECT_EQ(v->string_field("t"), "2025-01-27T14:30:00.095123456Z");
  // The timestamp is an extension of type -1 in the bytes, not a string.
  EXPECT_NE(out.find(bytes({0xd7, 0xff})), std::string::npos);
}

TEST(JsonToMsgpack, LeavesOtherStringsAlone) {
  json_to_msgpack enc;
  std::string out;
  ASSERT_TRUE(enc.encode(R"({"T":"n","created_at":"2025-01-27T14:30:00Z","t":"not a time"})", out));
  auto v = decode_msgpack(out);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->string_field("created_at"), "2025-01-27T14:30:00Z");  // news times stay strings
  EXPECT_EQ(v->string_field("t"), "not a time");
  EXPECT_FALSE(enc.encode("{nope", out));
}

TEST(DecodeMsgpack, DecodesARequest) {
  std::string in;
  msgpack_writer w(in);
  w.map_header(3);
  w.string("action");
  w.string("auth");
  w.string("key");
  w.string("k1");
  w.string("secret");
  w.string("s1");
  auto v = decode_msgpack(in);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->string_field("action"), "auth");
  EXPECT_EQ(v->string_field("secret"), "s1");
}

TEST(DecodeMsgpack, RefusesMalformedInput) {
  std::string error;
  EXPECT_FALSE(decode_msgpack("", &error));
  EXPECT_EQ(error, "truncated");
  EXPECT_FALSE(decode_msgpack(bytes({0xc1})));                    // reserved
  EXPECT_FALSE(decode_msgpack(bytes({0xa5, 'a', 'b'})));          // short string
  EXPECT_FALSE(decode_msgpack(bytes({0x81, 0x01, 0x02})));        // integer key
  EXPECT_FALSE(decode_msgpack(bytes({0xdd, 0x7f, 0xff, 0xff, 0xff})));  // huge count, no items
  EXPECT_FALSE(decode_msgpack(bytes({0x01, 0x02})));              // trailing byte
  EXPECT_FALSE(decode_msgpack(std::string(40, static_cast<char>(0x91)) + bytes({0x01})));  // deep
}

TEST(FormatRfc3339Ns, AlwaysNineDigits) {
  EXPECT_EQ(format_rfc3339_ns(1'737'988'200 * rules::k_ns_per_s + 40'000'000),
            "2025-01-27T14:30:00.040000000Z");
}

}  // namespace
}  // namespace aftershock::feedsim
