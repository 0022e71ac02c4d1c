// The cluster's wire formats and placement: every event type round-trips bit for bit, corrupt
// input is refused without reading past it, subjects are valid NATS subjects, the shard hash is
// stable FNV-1a (rules::stable_hash_hex's), "I/N" parses strictly, and the cluster: section
// loads with FILE:LINE:COL errors like the rest of the config.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "cluster/event_codec.h"
#include "cluster/role_metrics.h"
#include "cluster/stage_codec.h"
#include "cluster/topology.h"
#include "daemon/config_loader.h"
#include "exporters/alert_codec.h"
#include "rules/engine.h"

namespace aftershock::cluster {
namespace {

// Bitwise equality, so NaN and -0.0 count as preserved only when the bits are.
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

std::vector<rules::event> one_of_each() {
  std::vector<rules::event> out;
  out.push_back(rules::trade{"NVDA", 118.42, 300, 1737984600123456789, 987654321});
  out.push_back(rules::quote{"SU.PA", 241.1, 241.15, 10, 12.5, 1737960000000000001});
  rules::bar b;
  b.symbol = "300766.SZ";
  b.kind = rules::bar_kind::updated_minute;
  b.open = 1;
  b.high = std::numeric_limits<double>::infinity();
  b.low = -0.0;
  b.close = 0.1 + 0.2;
  b.volume = 1e300;
  b.start = -5;
  b.end = std::numeric_limits<std::int64_t>::max();
  out.push_back(b);
  rules::news n;
  n.id = "42";
  n.headline = "DeepSeek 深度求索 shakes AI stocks\x01";
  n.summary = std::string("nul\0inside", 10);
  n.url = "https://example.com/a?b=c";
  n.source = "benzinga";
  n.lang = "en";
  n.symbols = {"NVDA", "", "9984.T"};
  n.time = 1737950000000000000;
  n.updated = 1737950000000000999;
  out.push_back(n);
  out.push_back(rules::news{});
  out.push_back(rules::trading_status{"SMCI", "H", "Halted", "LUDP", "Volatility pause", 7});
  out.push_back(rules::luld_band{"NVDA", 130.5, 110.25, "B", 8});
  out.push_back(rules::trade_correction{"AMD", 11, 120.0, 100, 12, 121.5, 90, 9});
  out.push_back(rules::trade_cancel{"AMD", 12, 121.5, 90, true, 10});
  out.push_back(rules::trade_cancel{"AMD", 13, 121.5, 90, false, 11});
  return out;
}

bool equal(const rules::event& a, const rules::event& b) {
  if (a.index() != b.index()) return false;
  std::string ea, eb;
  encode_event(a, ea);
  encode_event(b, eb);
  return ea == eb;
}

TEST(event_codec, every_event_type_round_trips_exactly) {
  for (const rules::event& e : one_of_each()) {
    std::string bytes;
    encode_event(e, bytes);
    std::optional<rules::event> back = decode_event(bytes);
    ASSERT_TRUE(back.has_value()) << "type " << e.index();
    EXPECT_TRUE(equal(e, *back)) << "type " << e.index();
    EXPECT_EQ(rules::event_time(e), rules::event_time(*back));
    EXPECT_EQ(rules::event_symbol(e), rules::event_symbol(*back));
  }
  // Spot checks on the decoded values themselves, not only re-encodings.
  std::string bytes;
  const auto events = one_of_each();
  encode_event(events[2], bytes);
  const auto b = std::get<rules::bar>(*decode_event(bytes));
  EXPECT_TRUE(same_bits(b.low, -0.0));
  EXPECT_TRUE(same_bits(b.close, 0.1 + 0.2));
  EXPECT_TRUE(std::isinf(b.high));
  EXPECT_EQ(b.kind, rules::bar_kind::updated_minute);
  bytes.clear();
  encode_event(events[3], bytes);
  const auto n = std::get<rules::news>(*decode_event(bytes));
  EXPECT_EQ(n.summary, std::string("nul\0inside", 10));
  EXPECT_EQ(n.symbols, (std::vector<std::string>{"NVDA", "", "9984.T"}));
}

TEST(event_codec, truncated_corrupt_or_unknown_input_is_refused) {
  for (const rules::event& e : one_of_each()) {
    std::string bytes;
    encode_event(e, bytes);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
      EXPECT_FALSE(decode_event(std::string_view(bytes).substr(0, cut)).has_value())
          << "type " << e.index() << " cut at " << cut;
    }
    EXPECT_FALSE(decode_event(bytes + "x").has_value()) << "trailing bytes";
    std::string wrong_version = bytes;
    wrong_version[0] = 9;
    EXPECT_FALSE(decode_event(wrong_version).has_value());
  }
  EXPECT_FALSE(decode_event(std::string("\x01\x2a", 2)).has_value()) << "unknown type";
  std::string bar;
  encode_event(rules::bar{}, bar);
  bar[2 + 4] = 17;  // after the empty symbol: an unknown bar kind
  EXPECT_FALSE(decode_event(bar).has_value());
  // A huge symbol count must not allocate or read past the end.
  std::string news;
  encode_event(rules::news{}, news);
  const std::size_t count_at = 2 + 6 * 4;
  news[count_at] = '\xff';
  news[count_at + 1] = '\xff';
  news[count_at + 2] = '\xff';
  news[count_at + 3] = '\x7f';
  EXPECT_FALSE(decode_event(news).has_value());
}

TEST(alert_codec, alerts_travel_as_the_outbox_encodes_them) {
  rules::alert a;
  a.id = "0123456789abcdef";
  a.fingerprint = "fedcba9876543210";
  a.rule = "prev_close_move";
  a.symbol = "NVDA";
  a.change_pct = -16.97;
  a.headlines.push_back(
      {"1", "DeepSeek", "src", "u", 5, rules::link_kind::theme, "DeepSeek", 0, "deepseek"});
  std::string bytes;
  exporters::encode_alert(a, bytes);
  const auto back = exporters::decode_alert(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(rules::to_json(*back), rules::to_json(a));
}

// What a shard hands the arbiter must arrive as it was said: the arbiter's alerts are the
// shards' candidates, byte for byte.
TEST(stage_codec, records_and_stream_events_round_trip) {
  const std::vector<rules::event> events = one_of_each();
  for (const rules::event& e : events) {
    std::string bytes;
    encode_stream_event(1737984600123456789, e, bytes);
    const auto back = decode_stream_event(bytes);
    ASSERT_TRUE(back && back->event);
    EXPECT_EQ(back->watermark, 1737984600123456789);
    std::string again;
    encode_event(*back->event, again);
    std::string original;
    encode_event(e, original);
    EXPECT_EQ(again, original);
    EXPECT_FALSE(decode_stream_event(bytes.substr(0, bytes.size() - 1)));
  }
  std::string tick;
  encode_stream_tick(42, tick);
  const auto t = decode_stream_event(tick);
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->event);
  EXPECT_EQ(t->watermark, 42);

  stage_record rec;
  rec.shard = 2;
  rec.position = 1000;
  rec.through = 1002;
  rec.watermark = -7;
  rules::news n;
  n.id = "h1";
  n.headline = "DeepSeek 发布 R1";
  n.symbols = {"NVDA"};
  rec.headline = n;
  rules::alert a;
  a.id = "0123456789abcdef";
  a.rule = "prev_close_move";
  a.symbol = "NVDA";
  a.change_pct = -16.97;
  a.base = rules::baseline{"prev_close", 142.62, 5, "previous close 142.62"};
  a.status = rules::alert_status::resolved;
  rec.output.candidates = {a, a};
  rec.output.moves.push_back({"basket_breadth", "AVGO", -17.4, 200.1, 99, 20115});
  stage_record progress;
  progress.shard = 2;
  progress.position = 1010;
  progress.through = 1010;
  progress.progress = true;
  std::vector<std::string> encoded(2);
  encode_stage_record(rec, encoded[0]);
  encode_stage_record(progress, encoded[1]);
  std::string bytes;
  encode_stage_batch(encoded, bytes);
  const auto batch = decode_stage_batch(bytes);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->size(), 2u);
  const stage_record& r = (*batch)[0];
  EXPECT_EQ(r.shard, 2u);
  EXPECT_EQ(r.position, 1000u);
  EXPECT_EQ(r.through, 1002u);
  EXPECT_EQ(r.watermark, -7);
  ASSERT_TRUE(r.headline);
  EXPECT_EQ(r.headline->headline, n.headline);
  ASSERT_EQ(r.output.candidates.size(), 2u);
  EXPECT_EQ(rules::to_json(r.output.candidates[1]), rules::to_json(a));
  EXPECT_EQ(r.output.moves, rec.output.moves);
  EXPECT_TRUE((*batch)[1].progress);
  EXPECT_FALSE((*batch)[1].headline);
  // Truncated, trailing bytes, out of order or mixed shards: refused.
  for (std::size_t cut = 0; cut < bytes.size(); cut += 7) {
    EXPECT_FALSE(decode_stage_batch(bytes.substr(0, cut))) << cut;
  }
  EXPECT_FALSE(decode_stage_batch(bytes + "x"));
  std::string reversed;
  encode_stage_batch({encoded[1], encoded[0]}, reversed);
  EXPECT_FALSE(decode_stage_batch(reversed));
  progress.shard = 1;
  encoded[1].clear();
  encode_stage_record(progress, encoded[1]);
  std::string mixed;
  encode_stage_batch(encoded, mixed);
  EXPECT_FALSE(decode_stage_batch(mixed));
}

TEST(topology, subjects_are_valid_nats_subjects) {
  EXPECT_EQ(event_subject(rules::trade{"NVDA"}, "XNAS", 0), "aftershock.events.0.XNAS.NVDA");
  EXPECT_EQ(event_subject(rules::trade{"SU.PA"}, "XPAR", 2), "aftershock.events.2.XPAR.SU%2EPA");
  EXPECT_EQ(event_subject(rules::trade{"A B*>%"}, "XNYS", 1),
            "aftershock.events.1.XNYS.A%20B%2A%3E%25");
  EXPECT_EQ(event_subject(rules::trade{""}, "XNYS", 0), "aftershock.events.0.XNYS._");
  rules::news n;
  n.source = "alpaca news";
  EXPECT_EQ(event_subject(n, "XNYS", 3), "aftershock.events.3.news.alpaca%20news");
  EXPECT_EQ(shard_events_filter(3), "aftershock.events.3.>");
  EXPECT_EQ(stage_subject(3), "aftershock.stage.3");
  EXPECT_EQ(subject_token("深度求索"), "深度求索");
}

TEST(topology, the_shard_hash_is_stable_fnv1a) {
  for (const char* s : {"", "NVDA", "SU.PA", "300766.SZ", "深度求索"}) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(s)));
    EXPECT_EQ(rules::stable_hash_hex(s), hex) << s;
  }
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);  // the published FNV-1a 64 test vector
  // Every symbol has exactly one owner.
  for (const char* s : {"NVDA", "AMD", "TSM", "9984.T", "SU.PA"}) {
    int owners = 0;
    for (std::uint32_t i = 0; i < 3; ++i) owners += shard_spec{i, 3}.owns(s) ? 1 : 0;
    EXPECT_EQ(owners, 1) << s;
  }
  rules::alert basket;
  basket.rule = "basket_breadth";
  int owners = 0;
  for (std::uint32_t i = 0; i < 3; ++i) owners += shard_spec{i, 3}.owns(basket) ? 1 : 0;
  EXPECT_EQ(owners, 1);
}

TEST(topology, shards_parse_strictly) {
  EXPECT_EQ(parse_shard("0/3")->index, 0u);
  EXPECT_EQ(parse_shard("2/3")->count, 3u);
  for (const char* bad : {"3/3", "1/0", "a/3", "1", "1/3x", "-1/3", "1/5000", ""}) {
    std::string why;
    EXPECT_FALSE(parse_shard(bad, &why).has_value()) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

// Four lines, so the cluster: section below starts on line 5.
TEST(role_metrics, a_role_snapshot_becomes_labelled_families) {
  role_snapshot s;
  s.role = "engine 1/3";
  s.events = 46397;
  s.lag = 12;
  s.redeliveries = 3;
  s.dedup_hits = 51;
  s.caught_up = false;
  const auto families = role_metric_families(s, "engine", "1/3");
  auto find = [&](const std::string& name) -> const prometheus::MetricFamily* {
    for (const auto& f : families) {
      if (f.name == name) return &f;
    }
    return nullptr;
  };
  const auto* lag = find("aftershock_cluster_consumer_lag_messages");
  ASSERT_NE(lag, nullptr);
  EXPECT_EQ(lag->type, prometheus::MetricType::Gauge);
  EXPECT_EQ(lag->metric.at(0).gauge.value, 12);
  ASSERT_EQ(lag->metric.at(0).label.size(), 2u);
  EXPECT_EQ(lag->metric.at(0).label[1].value, "1/3");
  EXPECT_EQ(find("aftershock_cluster_redeliveries_total")->metric.at(0).counter.value, 3);
  EXPECT_EQ(find("aftershock_cluster_dedup_hits_total")->metric.at(0).counter.value, 51);
  EXPECT_EQ(find("aftershock_cluster_events_total")->metric.at(0).counter.value, 46397);
  EXPECT_EQ(find("aftershock_cluster_caught_up")->metric.at(0).gauge.value, 0);
  const std::string line = status_line(s);
  EXPECT_NE(line.find("engine 1/3: 46397 events"), std::string::npos) << line;
  EXPECT_NE(line.find("lag 12"), std::string::npos) << line;
  EXPECT_EQ(role_metric_families(s, "notify", "").at(0).metric.at(0).label.size(), 1u);
}

const char* k_base =
    "version: 1\ndefault_exchange: XNAS\n"
    "exchanges: [{mic: XNAS, tz_rule: \"EST5EDT,M3.2.0,M11.1.0\", regular: [\"09:30-16:00\"]}]\n"
    "rules: [{name: move, kind: prev_close_move, threshold_pct: 5}]\n";

TEST(cluster_config, the_cluster_section_loads) {
  const auto loaded =
      daemon::load_config(std::string(k_base) +
                              "cluster:\n"
                              "  servers: [nats://10.0.0.1:4222, tls://10.0.0.2:4222]\n"
                              "  replicas: 3\n"
                              "  shards: 4\n"
                              "  duplicate_window: 30m\n"
                              "  streams:\n"
                              "    events: {name: EV, max_bytes: 8GiB, max_age: 2d}\n"
                              "    alerts: {name: AL, max_bytes: 64MiB, max_age: 30d}\n"
                              "    stage: {name: ST, max_bytes: 1GiB, max_age: 2d}\n"
                              "  notify: {consumer: desk-notify, ack_wait: 10s}\n",
                          "c.yaml");
  ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
  const cluster_config& c = loaded.config.cluster;
  EXPECT_EQ(c.servers.size(), 2u);
  EXPECT_EQ(c.replicas, 3);
  EXPECT_EQ(c.duplicate_window, 30 * rules::k_ns_per_min);
  EXPECT_EQ(c.events_stream, "EV");
  EXPECT_EQ(c.events.max_bytes, std::int64_t{8} << 30);
  EXPECT_EQ(c.events.max_age, 2 * rules::k_ns_per_day);
  EXPECT_EQ(c.alerts_stream, "AL");
  EXPECT_EQ(c.stage_stream, "ST");
  EXPECT_EQ(c.stage.max_bytes, std::int64_t{1} << 30);
  EXPECT_EQ(c.shards, 4u);
  EXPECT_EQ(c.notify_consumer, "desk-notify");
  EXPECT_EQ(c.ack_wait, 10 * rules::k_ns_per_s);
  EXPECT_FALSE(daemon::load_config(k_base, "c.yaml").config.cluster.configured());
}

TEST(cluster_config, problems_are_reported_with_file_and_line) {
  const auto loaded = daemon::load_config(std::string(k_base) +
                                              "cluster:\n"                               // line 5
                                              "  servers: [http://x:1]\n"                // 6
                                              "  replicas: 7\n"                          // 7
                                              "  streams:\n"                             // 8
                                              "    events: {name: a.b, max_age: 1m}\n"   // 9
                                              "  notify: {ack_wait: 10ms, bogus: 1}\n",  // 10
                                          "c.yaml");
  ASSERT_FALSE(loaded.ok());
  std::string all;
  for (const auto& e : loaded.errors) all += e.to_string() + "\n";
  EXPECT_NE(all.find("c.yaml:6:"), std::string::npos) << all;
  EXPECT_NE(all.find("nats://HOST:PORT"), std::string::npos) << all;
  EXPECT_NE(all.find("c.yaml:7:"), std::string::npos) << all;
  EXPECT_NE(all.find("c.yaml:9:"), std::string::npos) << all;
  EXPECT_NE(all.find("max_age must be at least cluster.duplicate_window"), std::string::npos)
      << all;
  EXPECT_NE(all.find("c.yaml:10:"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown key 'bogus'"), std::string::npos) << all;
  EXPECT_NE(all.find("ack_wait must be at least 1s"), std::string::npos) << all;
  const auto empty =
      daemon::load_config(std::string(k_base) + "cluster: {replicas: 3}\n", "c.yaml");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.errors[0].message.find("at least one NATS server"), std::string::npos);
  const auto shards = daemon::load_config(
      std::string(k_base) + "cluster:\n  servers: [nats://a:4222]\n  shards: 2.5\n", "c.yaml");
  ASSERT_FALSE(shards.ok());
  EXPECT_NE(shards.errors[0].to_string().find("c.yaml:7:"), std::string::npos)
      << shards.errors[0].to_string();
  EXPECT_NE(shards.errors[0].message.find("cluster.shards must be a whole number"),
            std::string::npos);
}

}  // namespace
}  // namespace aftershock::cluster
