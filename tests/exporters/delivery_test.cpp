// Delivery end to end against a loopback receiver playing Slack, Discord, Telegram, Teams,
// webhooks and Alertmanager: retries, 429 waits, ordering, de-duplication, grouping, TLS.
// Assertions are on what arrived and on request times relative to the receiver's own 429
// answers (with tolerance), never on absolute speed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "exporters/outbox_sink.h"
#include "loopback_receiver.h"
#include "test_alerts.h"

namespace aftershock::exporters {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using aftershock::testing::loopback_receiver;
using aftershock::testing::received_request;
using aftershock::testing::scripted_response;
using ::testing::HasSubstr;

constexpr auto k_tolerance = 25ms;  // timer slack between the receiver's clock reads

std::vector<std::string> split_ids(const std::string& key) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= key.size()) {
    const std::size_t comma = key.find(',', start);
    out.push_back(key.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<received_request> on_path(const std::vector<received_request>& all,
                                      std::string_view path) {
  std::vector<received_request> out;
  for (const auto& r : all) {
    if (r.target == path) out.push_back(r);
  }
  return out;
}

// Alert ids in the order they were accepted (2xx), each once.
std::vector<std::string> delivered_ids(const std::vector<received_request>& requests) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& r : requests) {
    if (r.status < 200 || r.status >= 300) continue;
    for (const auto& id : split_ids(r.idempotency_key)) {
      if (seen.insert(id).second) out.push_back(id);
    }
  }
  return out;
}

destination_config destination(std::string name, destination_type type, std::string url) {
  destination_config d;
  d.name = std::move(name);
  d.type = type;
  d.url = std::move(url);
  d.rate_per_second = 0;  // the tests exercise 429s, not the default buckets
  d.max_group = 1;
  d.backoff_initial = 100 * rules::k_ns_per_ms;
  d.backoff_max = 400 * rules::k_ns_per_ms;
  d.timeout = 5 * rules::k_ns_per_s;
  return d;
}

class delivery_test : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = (fs::path(::testing::TempDir()) /
              ("delivery-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                 .string();
    fs::remove_all(state_);
  }
  void TearDown() override { fs::remove_all(state_); }

  std::unique_ptr<outbox_sink> make_sink(const outputs_config& c, bool durable = true) {
    std::vector<std::string> errors;
    auto sink = outbox_sink::create(c, durable ? state_ : std::string(), &errors);
    EXPECT_TRUE(sink) << ::testing::PrintToString(errors);
    return sink;
  }

  std::string state_;
};

TEST_F(delivery_test, every_alert_arrives_once_in_order_despite_429_and_500) {
  loopback_receiver rx;
  std::mutex mutex;
  std::map<std::string, int> count;
  rx.set_responder([&](const received_request& r, std::size_t) {
    std::lock_guard lock(mutex);
    const int k = count[r.target]++;
    scripted_response ok;
    if (r.target == "/discord") ok = {204, {}, ""};
    if (r.target == "/telegram") ok.body = R"({"ok":true,"result":{"message_id":1}})";
    if (k == 2 || k == 9) {
      if (r.target == "/slack" || r.target == "/teams")
        return scripted_response{429, {{"Retry-After", "1"}}, "rate_limited"};
      if (r.target == "/discord") {
        return scripted_response{
            429,
            {},
            R"({"message":"You are being rate limited.","retry_after":0.6,"global":false})"};
      }
      return scripted_response{
          429,
          {},
          R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}})"};
    }
    if (k == 5 || k == 12) return scripted_response{500, {}, "oops"};
    return ok;
  });

  outputs_config c;
  c.grafana_url = "https://grafana.example/d/aftershock?var-symbol={{symbol}}";
  c.destinations = {destination("slack", destination_type::slack, rx.url("/slack")),
                    destination("discord", destination_type::discord, rx.url("/discord")),
                    destination("telegram", destination_type::telegram, rx.url("")),
                    destination("teams", destination_type::msteams, rx.url("/teams"))};
  c.destinations[2].token = "123:TOKEN";
  c.destinations[2].chat_id = "-1001";
  c.destinations[2].group_per_minute = 0;  // the 20/min group bucket is unit-tested
  auto sink = make_sink(c);
  ASSERT_TRUE(sink);
  sink->start();
  std::vector<std::string> published;
  for (int i = 0; i < 20; ++i) {
    rules::alert a = aftershock::testing::nvda_alert("id" + std::to_string(1000 + i));
    published.push_back(a.id);
    sink->publish(a);
  }
  sink->publish(aftershock::testing::nvda_alert("id1003"));  // a duplicate id: not queued again
  EXPECT_EQ(sink->stop(30s), 0u);

  const auto all = rx.requests();
  const std::map<std::string, std::chrono::milliseconds> asked{
      {"/slack", 1000ms},
      {"/teams", 1000ms},
      {"/discord", 600ms},
      {"/bot123:TOKEN/sendMessage", 1000ms}};
  for (const auto& [path, wait] : asked) {
    const auto requests = on_path(all, path);
    SCOPED_TRACE(path);
    EXPECT_EQ(delivered_ids(requests), published);  // all, once each, in order
    int limited = 0;
    for (std::size_t i = 0; i + 1 < requests.size(); ++i) {
      if (requests[i].status != 429) continue;
      ++limited;
      const auto gap = requests[i + 1].at - requests[i].answered_at;
      EXPECT_GE(gap, wait - k_tolerance) << "request " << i + 1 << " came too early";
      // The same message is retried after the wait.
      EXPECT_EQ(requests[i + 1].idempotency_key, requests[i].idempotency_key);
    }
    EXPECT_EQ(limited, 2);
  }
  const auto stats = sink->stats();
  for (const auto& d : stats.destinations) {
    EXPECT_EQ(d.alerts_delivered, 20u) << d.name;
    EXPECT_EQ(d.rate_limited, 2u) << d.name;
    EXPECT_EQ(d.retries, 2u) << d.name;
    EXPECT_EQ(d.depth, 0u) << d.name;
    EXPECT_EQ(d.latency.count, 20u) << d.name;
    EXPECT_THAT(d.endpoint, ::testing::Not(HasSubstr("TOKEN")));
  }
  EXPECT_EQ(stats.outbox.duplicates, 1u);
  EXPECT_TRUE(stats.outbox.durable);

  // What Telegram got is a real sendMessage call.
  const auto tg = on_path(all, "/bot123:TOKEN/sendMessage");
  ASSERT_FALSE(tg.empty());
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(tg.back().body);
  EXPECT_EQ(std::string_view(doc["chat_id"]), "-1001");
  EXPECT_EQ(std::string_view(doc["parse_mode"]), "HTML");
}

TEST_F(delivery_test, grouping_window_puts_several_alerts_in_one_message) {
  loopback_receiver rx;
  outputs_config c;
  auto d = destination("slack", destination_type::slack, rx.url("/slack"));
  d.max_group = 10;
  d.group_window = 300 * rules::k_ns_per_ms;
  c.destinations = {d};
  auto sink = make_sink(c);
  sink->start();
  std::vector<std::string> published;
  for (int i = 0; i < 25; ++i) {
    rules::alert a = aftershock::testing::nvda_alert("g" + std::to_string(100 + i));
    published.push_back(a.id);
    sink->publish(a);
  }
  EXPECT_EQ(sink->stop(10s), 0u);
  const auto requests = rx.requests();
  EXPECT_EQ(delivered_ids(requests), published);
  EXPECT_LE(requests.size(), 4u);  // 10 + 10 + 5, give or take a window boundary
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(requests.front().body);
  EXPECT_THAT(std::string(std::string_view(doc["text"])), HasSubstr("aftershock alerts"));
}

TEST_F(delivery_test, discord_bucket_headers_pace_the_next_request) {
  loopback_receiver rx;
  rx.set_responder([](const received_request&, std::size_t i) {
    if (i == 0) {
      return scripted_response{
          204, {{"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset-After", "0.5"}}, ""};
    }
    return scripted_response{
        204, {{"X-RateLimit-Remaining", "4"}, {"X-RateLimit-Reset-After", "0.5"}}, ""};
  });
  outputs_config c;
  c.destinations = {destination("discord", destination_type::discord, rx.url("/d"))};
  auto sink = make_sink(c);
  sink->start();
  sink->publish(aftershock::testing::nvda_alert("d1"));
  sink->publish(aftershock::testing::nvda_alert("d2"));
  EXPECT_EQ(sink->stop(10s), 0u);
  const auto r = rx.requests();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_GE(r[1].at - r[0].answered_at, 500ms - k_tolerance);
}

TEST_F(delivery_test, refused_messages_are_counted_and_do_not_block_the_queue) {
  loopback_receiver rx;
  rx.set_responder([](const received_request& r, std::size_t) {
    if (r.idempotency_key == "bad") return scripted_response{400, {}, "invalid_blocks"};
    return scripted_response{};
  });
  outputs_config c;
  c.destinations = {destination("slack", destination_type::slack, rx.url("/s"))};
  auto sink = make_sink(c);
  sink->start();
  sink->publish(aftershock::testing::nvda_alert("bad"));
  sink->publish(aftershock::testing::nvda_alert("good"));
  EXPECT_EQ(sink->stop(10s), 0u);
  const auto s = sink->stats().destinations.front();
  EXPECT_EQ(s.alerts_rejected, 1u);
  EXPECT_EQ(s.alerts_delivered, 1u);
  EXPECT_EQ(rx.request_count(), 2u);  // the refused one is not retried
}

TEST_F(delivery_test, https_verifies_the_certificate) {
  const auto cert = aftershock::testing::make_test_certificate();
  loopback_receiver rx({0, true, cert});
  const std::string ca = state_ + "-ca.pem";
  std::ofstream(ca) << cert.cert_pem;
  ::setenv("AFTERSHOCK_TEST_HOOK_AUTH", "Bearer s3cret", 1);

  outputs_config c;
  auto trusted = destination("trusted", destination_type::webhook, rx.url("/trusted"));
  trusted.ca_file = ca;
  trusted.template_text = R"({"id":"{{id}}","text":"{{summary}}","move":{{change_pct}}})";
  trusted.headers = {{"Authorization", "env:AFTERSHOCK_TEST_HOOK_AUTH"}};
  auto untrusted = destination("untrusted", destination_type::webhook, rx.url("/untrusted"));
  c.destinations = {trusted, untrusted};
  auto sink = make_sink(c);
  sink->start();
  const rules::alert a = aftershock::testing::hostile_alert();
  sink->publish(a);
  ASSERT_TRUE(rx.wait_for([](const auto& r) { return !r.empty(); }, 10s));
  // The untrusted destination keeps failing the handshake: give it time to try twice.
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(sink->stop(0s), 1u);  // kept for the next start, not lost
  fs::remove(ca);

  const auto requests = rx.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/trusted");
  EXPECT_EQ(requests[0].idempotency_key, a.id);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(requests[0].body);
  EXPECT_EQ(std::string_view(doc["id"]), a.id);
  EXPECT_EQ(double(doc["move"]), -10.03);
  const auto stats = sink->stats().destinations;
  EXPECT_EQ(stats[0].alerts_delivered, 1u);
  EXPECT_EQ(stats[1].alerts_delivered, 0u);
  EXPECT_GE(stats[1].retries, 1u);
}

TEST_F(delivery_test, alertmanager_resends_while_firing_and_ends_on_resolve) {
  loopback_receiver rx;
  outputs_config c;
  auto d = destination("am", destination_type::alertmanager, rx.url(""));
  d.resend_interval = rules::k_ns_per_s;
  d.max_group = 0;
  c.destinations = {d};
  auto sink = make_sink(c, false);
  sink->start();
  rules::alert warning = aftershock::testing::nvda_alert("w1");
  warning.level = rules::severity::warning;
  sink->publish(warning);
  rules::alert critical = aftershock::testing::nvda_alert("c1");  // same fingerprint, escalated
  ASSERT_TRUE(rx.wait_for([](const auto& r) { return r.size() >= 1; }, 5s));
  sink->publish(critical);
  // At least one re-send of the firing alert arrives on its own.
  ASSERT_TRUE(rx.wait_for(
      [](const auto& r) {
        int resends = 0;
        for (const auto& q : r) resends += q.idempotency_key.empty();
        return resends >= 1;
      },
      5s));
  rules::alert resolved = critical;
  resolved.id = "r1";
  resolved.status = rules::alert_status::resolved;
  resolved.event_time += 30 * rules::k_ns_per_min;
  sink->publish(resolved);
  ASSERT_TRUE(rx.wait_for(
      [](const auto& r) {
        for (const auto& q : r) {
          if (q.idempotency_key == "r1") return true;
        }
        return false;
      },
      5s));
  std::this_thread::sleep_for(1500ms);  // more than one resend interval
  EXPECT_EQ(sink->stop(5s), 0u);

  const auto requests = rx.requests();
  for (const auto& q : requests) EXPECT_EQ(q.target, "/api/v2/alerts");
  simdjson::dom::parser p;
  // The escalation ends the warning's label set and starts the critical one.
  std::string escalation;
  for (const auto& q : requests) {
    if (q.idempotency_key == "c1") escalation = q.body;
  }
  simdjson::dom::element doc = p.parse(escalation);
  ASSERT_EQ(simdjson::dom::array(doc).size(), 2u);
  EXPECT_EQ(std::string_view(doc.at(0)["labels"]["severity"]), "warning");
  EXPECT_EQ(std::string_view(doc.at(1)["labels"]["severity"]), "critical");
  // The resolve ends the critical one at the resolve's event time.
  std::string resolve;
  for (const auto& q : requests) {
    if (q.idempotency_key == "r1") resolve = q.body;
  }
  doc = p.parse(resolve);
  EXPECT_EQ(std::string_view(doc.at(0)["labels"]["severity"]), "critical");
  EXPECT_EQ(std::string_view(doc.at(0)["endsAt"]), rules::format_rfc3339_ms(resolved.event_time));
  // Nothing is re-sent once resolved (a re-send already in flight may land just after).
  std::chrono::steady_clock::time_point resolved_at{};
  for (const auto& q : requests) {
    if (q.idempotency_key == "r1") resolved_at = q.answered_at;
  }
  int later_resends = 0;
  for (const auto& q : requests) {
    later_resends += q.idempotency_key.empty() && q.at > resolved_at + 200ms;
  }
  EXPECT_EQ(later_resends, 0);
  EXPECT_GE(sink->stats().destinations.front().resends, 1u);
}

}  // namespace
}  // namespace aftershock::exporters
