#include "exporters/delivery_service.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "exporters/http_client.h"
#include "exporters/log_limiter.h"
#include "exporters/routing.h"

namespace aftershock::exporters {

namespace net = boost::asio;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t k_latency_ring = 4096;
constexpr std::size_t k_max_firing = 10000;  // Alertmanager alerts re-sent at once, at most

std::int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A response body is untrusted too: keep log lines short and printable.
std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  return out;
}

}  // namespace

http_request make_request(const destination_runtime& d, std::string body,
                          std::string idempotency_key) {
  http_request r;
  r.url = d.url;
  r.body = std::move(body);
  r.content_type = "application/json";
  // Chat platforms ignore the header; generic webhooks and our test receivers de-duplicate on
  // it. Alert ids are stable across replays and restarts, so a resend carries the same key.
  if (!idempotency_key.empty())
    r.headers.emplace_back("Idempotency-Key", std::move(idempotency_key));
  for (const auto& h : d.headers) r.headers.push_back(h);
  return r;
}

struct channel {
  using strand_type = net::strand<net::io_context::executor_type>;

  channel(std::size_t i, destination_runtime r, net::io_context& io)
      : index(i),
        rt(std::move(r)),
        strand(net::make_strand(io)),
        wake_timer(strand),
        sleep_timer(strand),
        resend_timer(strand),
        limiter(rt.limits, std::chrono::steady_clock::now()),
        rng(std::random_device{}()) {}

  std::size_t index;
  destination_runtime rt;
  strand_type strand;
  net::steady_timer wake_timer;    // the outbox has new alerts (cancelled by wake)
  net::steady_timer sleep_timer;   // rate limits and back-off (cancelled only by stop)
  net::steady_timer resend_timer;  // Alertmanager re-sends
  bool woken = false;
  std::unique_ptr<http_client> client;
  std::unique_ptr<http_client> resend_client;
  rate_limiter limiter;
  std::mt19937_64 rng;
  unsigned attempt = 0;
  std::FILE* file = nullptr;
  bool owns_file = false;
  log_limiter log;

  struct firing_alert {
    std::shared_ptr<const rules::alert> alert;
    rules::time_ns starts_at = 0;
    std::chrono::steady_clock::time_point first_sent;
  };
  std::map<std::string, firing_alert> firing;  // Alertmanager: by fingerprint

  destination_stats stats;  // guarded by impl::stats_mutex
  std::size_t ring_next = 0;
};

struct delivery_service::impl {
  impl(outbox& b, std::vector<destination_runtime> destinations) : box(b), io(1) {
    for (std::size_t i = 0; i < destinations.size(); ++i) {
      auto c = std::make_unique<channel>(i, std::move(destinations[i]), io);
      c->stats.name = c->rt.config.name;
      c->stats.type = to_string(c->rt.config.type);
      c->stats.endpoint = c->rt.endpoint;
      if (is_http(c->rt.config.type)) {
        c->client =
            std::make_unique<http_client>(c->strand, http_client::options{c->rt.config.ca_file});
        if (c->rt.config.type == destination_type::alertmanager) {
          c->resend_client =
              std::make_unique<http_client>(c->strand, http_client::options{c->rt.config.ca_file});
        }
      }
      channels.push_back(std::move(c));
    }
  }

  outbox& box;
  net::io_context io;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::unique_ptr<channel>> channels;
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool started = false;
  bool stopped = false;
  std::mutex running_mutex;
  std::condition_variable running_cv;
  int running = 0;
  mutable std::mutex stats_mutex;

  struct running_guard {
    impl& s;
    explicit running_guard(impl& i) : s(i) {
      std::lock_guard lock(s.running_mutex);
      ++s.running;
    }
    ~running_guard() {
      std::lock_guard lock(s.running_mutex);
      --s.running;
      s.running_cv.notify_all();
    }
  };

  void wake(std::uint64_t mask) {
    for (auto& c : channels) {
      if (!(mask & (std::uint64_t{1} << c->index))) continue;
      net::post(c->strand, [ch = c.get()] {
        ch->woken = true;
        ch->wake_timer.cancel();
      });
    }
  }

  net::awaitable<void> wait_for_wake(channel& c, std::chrono::steady_clock::duration max) {
    if (c.woken) {
      c.woken = false;
      co_return;
    }
    c.wake_timer.expires_after(max);
    co_await c.wake_timer.async_wait(use_tuple);
    c.woken = false;
  }

  net::awaitable<void> sleep(channel& c, std::chrono::steady_clock::duration d) {
    c.sleep_timer.expires_after(d);
    co_await c.sleep_timer.async_wait(use_tuple);
  }

  void record_delivery(channel& c, const std::vector<outbox_item>& items) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(stats_mutex);
    ++c.stats.messages_delivered;
    c.stats.alerts_delivered += items.size();
    for (const outbox_item& item : items) {
      const double s = std::chrono::duration<double>(now - item.queued).count();
      c.stats.latency.observe(s);
      if (c.stats.recent_latency_s.size() < k_latency_ring) {
        c.stats.recent_latency_s.push_back(s);
      } else {
        c.stats.recent_latency_s[c.ring_next] = s;
        c.ring_next = (c.ring_next + 1) % k_latency_ring;
      }
    }
  }

  template <class F>
  void count(channel& c, F&& f) {
    std::lock_guard lock(stats_mutex);
    f(c.stats);
  }

  // Alertmanager: the POST for a batch, ending label sets that a resolve or an escalation
  // replaces. `keep` holds the alerts the items point to.
  std::string alertmanager_body(channel& c, const std::vector<outbox_item>& items,
                                std::vector<std::shared_ptr<const rules::alert>>& keep) {
    const rules::time_ns now = wall_now_ns();
    const rules::time_ns ends =
        now + std::max<rules::time_ns>(3 * c.rt.config.resend_interval, 5 * rules::k_ns_per_min);
    std::vector<alertmanager_item> am;
    // What is firing per fingerprint as this batch unfolds (an escalation can follow its first
    // alert within one batch): the outcome of earlier items overlays c.firing.
    std::map<std::string, std::optional<channel::firing_alert>> batch;
    auto current = [&](const std::string& fp) -> std::optional<channel::firing_alert> {
      if (auto b = batch.find(fp); b != batch.end()) return b->second;
      if (auto f = c.firing.find(fp); f != c.firing.end()) return f->second;
      return std::nullopt;
    };
    for (const outbox_item& item : items) {
      const rules::alert& a = *item.alert;
      keep.push_back(item.alert);
      const std::optional<channel::firing_alert> prev = current(a.fingerprint);
      if (prev) keep.push_back(prev->alert);
      if (a.status == rules::alert_status::resolved) {
        if (prev) {
          am.push_back(
              {prev->alert.get(), prev->starts_at, std::max(a.event_time, prev->starts_at)});
        } else {
          am.push_back({&a, a.event_time, a.event_time});
        }
        batch[a.fingerprint] = std::nullopt;
        continue;
      }
      if (prev && alertmanager_labels(*prev->alert) != alertmanager_labels(a)) {
        am.push_back({prev->alert.get(), prev->starts_at, now});  // escalated: end the old set
      }
      batch[a.fingerprint] = channel::firing_alert{item.alert, a.event_time, {}};
      am.push_back({&a, a.event_time, ends});
    }
    return render_alertmanager(am, c.rt.render);
  }

  void alertmanager_delivered(channel& c, const std::vector<outbox_item>& items) {
    const auto now = std::chrono::steady_clock::now();
    for (const outbox_item& item : items) {
      const rules::alert& a = *item.alert;
      if (a.status == rules::alert_status::resolved) {
        c.firing.erase(a.fingerprint);
        continue;
      }
      c.firing[a.fingerprint] = {item.alert, a.event_time, now};
    }
    while (c.firing.size() > k_max_firing) {
      // Oldest first sent stops being re-sent; Alertmanager resolves it at its endsAt.
      auto oldest = c.firing.begin();
      for (auto it = c.firing.begin(); it != c.firing.end(); ++it) {
        if (it->second.first_sent < oldest->second.first_sent) oldest = it;
      }
      c.firing.erase(oldest);
    }
  }

  net::awaitable<void> send_http(channel& c, std::vector<outbox_item> items) {
    std::vector<const rules::alert*> refs;
    std::vector<std::uint64_t> seqs;
    std::string key;
    for (const outbox_item& item : items) {
      refs.push_back(item.alert.get());
      seqs.push_back(item.seq);
      if (!key.empty()) key += ',';
      key += item.alert->id;
    }
    std::vector<std::shared_ptr<const rules::alert>> keep;
    std::string body;
    switch (c.rt.config.type) {
      case destination_type::slack:
        body = render_slack(refs, c.rt.render);
        break;
      case destination_type::discord:
        body = render_discord(refs, c.rt.render);
        break;
      case destination_type::msteams:
        body = render_teams(refs, c.rt.render);
        break;
      case destination_type::telegram:
        body = render_telegram(refs, c.rt.render);
        break;
      case destination_type::alertmanager:
        body = alertmanager_body(c, items, keep);
        break;
      case destination_type::webhook:
        body = render_webhook(*refs.front(), c.rt.render);
        break;
      case destination_type::jsonl:
      case destination_type::console:
        co_return;
    }
    const http_request req = make_request(c.rt, std::move(body), std::move(key));
    count(c, [](destination_stats& s) { ++s.requests; });
    const auto timeout = std::chrono::nanoseconds(c.rt.config.timeout);
    const http_response resp = co_await c.client->send(req, timeout);
    if (stopping) co_return;  // abandoned: the alerts stay in the outbox

    const auto now = std::chrono::steady_clock::now();
    if (auto hold = ratelimit_hold(resp)) c.limiter.hold_until(now + *hold);
    const verdict v = classify(resp, c.attempt, c.rt.retry, c.rng(), wall_now_ns());
    std::uint64_t suppressed = 0;
    switch (v.outcome) {
      case delivery_outcome::delivered:
        box.complete(c.index, seqs, true);
        c.attempt = 0;
        record_delivery(c, items);
        if (c.rt.config.type == destination_type::alertmanager) alertmanager_delivered(c, items);
        break;
      case delivery_outcome::rate_limited:
        ++c.attempt;
        c.limiter.hold_until(now + v.wait);
        count(c, [](destination_stats& s) { ++s.rate_limited; });
        if (c.log.allow(suppressed)) {
          spdlog::warn("{} ({}): rate limited (429); waiting {:.3f} s as asked{}", c.rt.config.name,
                       c.rt.endpoint, v.wait.count() / 1000.0,
                       suppressed ? fmt::format(" ({} lines suppressed)", suppressed) : "");
        }
        break;
      case delivery_outcome::retry:
        ++c.attempt;
        c.limiter.hold_until(now + v.wait);
        count(c, [&](destination_stats& s) {
          ++s.retries;
          if (resp.transport == transport_error::timeout) ++s.timeouts;
        });
        if (c.log.allow(suppressed)) {
          spdlog::warn("{} ({}): delivery failed ({}{}{}); retry {} in {:.3f} s{}",
                       c.rt.config.name, c.rt.endpoint, v.reason, resp.error.empty() ? "" : ": ",
                       resp.error, c.attempt, v.wait.count() / 1000.0,
                       suppressed ? fmt::format(" ({} lines suppressed)", suppressed) : "");
        }
        break;
      case delivery_outcome::rejected:
        box.complete(c.index, seqs, false);
        c.attempt = 0;
        count(c, [&](destination_stats& s) { s.alerts_rejected += seqs.size(); });
        // Always logged: these alerts are dropped for this destination.
        spdlog::error(
            "{} ({}): {} refused {} alert{} for good ({}); dropped for this "
            "destination: {}",
            c.rt.config.name, c.rt.endpoint, v.reason, seqs.size(), seqs.size() == 1 ? "" : "s",
            excerpt(resp.body), items.front().alert->id);
        break;
    }
  }

  net::awaitable<void> write_local(channel& c, std::vector<outbox_item> items) {
    if (!c.file) {
      if (c.rt.config.type == destination_type::console) {
        c.file = stdout;
      } else {
        c.file = std::fopen(c.rt.config.path.c_str(), "ab");
        c.owns_file = c.file != nullptr;
      }
      if (!c.file) {
        ++c.attempt;
        count(c, [](destination_stats& s) { ++s.retries; });
        std::uint64_t suppressed = 0;
        if (c.log.allow(suppressed)) {
          spdlog::error("{}: cannot open {} for appending; retrying", c.rt.config.name,
                        c.rt.config.path);
        }
        co_await sleep(c, backoff_delay(c.rt.retry, c.attempt, c.rng()));
        co_return;
      }
    }
    std::string out;
    std::vector<std::uint64_t> seqs;
    for (const outbox_item& item : items) {
      seqs.push_back(item.seq);
      if (c.rt.config.type == destination_type::jsonl) {
        out += rules::to_json(*item.alert);
        out += '\n';
      } else {
        out += render_console(*item.alert, c.rt.render);
      }
    }
    count(c, [](destination_stats& s) { ++s.requests; });
    const bool ok =
        std::fwrite(out.data(), 1, out.size(), c.file) == out.size() && std::fflush(c.file) == 0;
    if (!ok) {
      ++c.attempt;
      count(c, [](destination_stats& s) { ++s.retries; });
      co_await sleep(c, backoff_delay(c.rt.retry, c.attempt, c.rng()));
      co_return;
    }
    c.attempt = 0;
    box.complete(c.index, seqs, true);
    record_delivery(c, items);
  }

  net::awaitable<void> run_channel(channel& c) {
    running_guard guard(*this);
    const auto window = std::chrono::nanoseconds(c.rt.config.group_window);
    const std::size_t max_group = c.rt.limits.max_group;
    while (!stopping) {
      std::vector<outbox_item> items = box.peek(c.index, max_group);
      if (items.empty()) {
        co_await wait_for_wake(c, std::chrono::seconds(5));
        continue;
      }
      const auto now = std::chrono::steady_clock::now();
      const group_decision g =
          decide_group(items.size(), items.front().queued, now, window, max_group);
      if (g.take == 0) {
        co_await wait_for_wake(c, g.wait_until - now);
        continue;
      }
      items.resize(g.take);
      if (!is_http(c.rt.config.type)) {
        co_await write_local(c, std::move(items));
        continue;
      }
      const auto wait = c.limiter.wait_time(now);
      if (wait > std::chrono::steady_clock::duration::zero()) {
        co_await sleep(c, wait);
        continue;
      }
      c.limiter.take(now);
      co_await send_http(c, std::move(items));
    }
  }

  net::awaitable<void> resend_loop(channel& c) {
    running_guard guard(*this);
    const auto interval = std::chrono::nanoseconds(c.rt.config.resend_interval);
    const auto firing_for = std::chrono::nanoseconds(c.rt.config.firing_for);
    while (!stopping) {
      c.resend_timer.expires_after(interval);
      co_await c.resend_timer.async_wait(use_tuple);
      if (stopping) break;
      const auto now = std::chrono::steady_clock::now();
      std::vector<std::shared_ptr<const rules::alert>> keep;
      std::vector<alertmanager_item> am;
      const rules::time_ns wall = wall_now_ns();
      const rules::time_ns ends =
          wall + std::max<rules::time_ns>(3 * c.rt.config.resend_interval, 5 * rules::k_ns_per_min);
      for (auto it = c.firing.begin(); it != c.firing.end();) {
        if (now - it->second.first_sent > firing_for) {
          it = c.firing.erase(it);  // Alertmanager resolves it at the last endsAt
          continue;
        }
        keep.push_back(it->second.alert);
        am.push_back({it->second.alert.get(), it->second.starts_at, ends});
        ++it;
      }
      for (std::size_t at = 0; at < am.size() && !stopping; at += 64) {
        const std::size_t n = std::min<std::size_t>(64, am.size() - at);
        const std::span<const alertmanager_item> chunk(am.data() + at, n);
        const http_request req = make_request(c.rt, render_alertmanager(chunk, c.rt.render), "");
        const http_response resp =
            co_await c.resend_client->send(req, std::chrono::nanoseconds(c.rt.config.timeout));
        if (resp.ok()) {
          count(c, [&](destination_stats& s) { s.resends += n; });
        } else {
          std::uint64_t suppressed = 0;
          if (c.log.allow(suppressed)) {
            spdlog::warn("{} ({}): re-sending firing alerts failed ({}{}); next try in {} s",
                         c.rt.config.name, c.rt.endpoint,
                         resp.status ? "http " + std::to_string(resp.status)
                                     : std::string(to_string(resp.transport)),
                         resp.error.empty() ? "" : ": " + resp.error,
                         std::chrono::duration_cast<std::chrono::seconds>(interval).count());
          }
          break;
        }
      }
    }
  }
};

delivery_service::delivery_service(outbox& box, std::vector<destination_runtime> destinations)
    : impl_(std::make_unique<impl>(box, std::move(destinations))) {}

delivery_service::~delivery_service() { stop(); }

void delivery_service::start() {
  impl& s = *impl_;
  if (s.started) return;
  s.started = true;
  s.work.emplace(s.io.get_executor());
  for (auto& c : s.channels) {
    if (c->client && !c->client->setup_error().empty()) {
      spdlog::error("{}: {}", c->rt.config.name, c->client->setup_error());
    }
    net::co_spawn(c->strand, s.run_channel(*c), net::detached);
    if (c->rt.config.type == destination_type::alertmanager) {
      net::co_spawn(c->strand, s.resend_loop(*c), net::detached);
    }
  }
  s.box.set_ready_listener([p = &s](std::uint64_t mask) { p->wake(mask); });
  s.thread = std::thread([p = &s] { p->io.run(); });
}

void delivery_service::stop(std::chrono::steady_clock::duration grace) {
  impl& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  s.box.set_ready_listener(nullptr);
  s.stopping = true;
  for (auto& c : s.channels) {
    net::post(c->strand, [ch = c.get()] {
      ch->wake_timer.cancel();
      ch->sleep_timer.cancel();
      ch->resend_timer.cancel();
      if (ch->client) ch->client->close();
      if (ch->resend_client) ch->resend_client->close();
    });
  }
  s.work.reset();
  {
    // Closing the connections cancelled reads and writes; a connect or TLS handshake in
    // progress ends at its request deadline. Waiting for that (rather than stopping the
    // io_context under suspended coroutines) keeps teardown simple and safe.
    std::unique_lock lock(s.running_mutex);
    if (!s.running_cv.wait_for(lock, grace, [&] { return s.running == 0; })) {
      spdlog::info("delivery: waiting for {} destination task{} to reach their request deadline",
                   s.running, s.running == 1 ? "" : "s");
      s.running_cv.wait(lock, [&] { return s.running == 0; });
    }
  }
  if (s.thread.joinable()) s.thread.join();
  for (auto& c : s.channels) {
    if (c->owns_file && c->file) std::fclose(c->file);
    c->file = nullptr;
  }
}

std::vector<destination_stats> delivery_service::stats() const {
  std::vector<std::size_t> depth;
  std::vector<double> oldest;
  impl_->box.destination_depths(depth, oldest);
  std::vector<destination_stats> out;
  std::lock_guard lock(impl_->stats_mutex);
  for (const auto& c : impl_->channels) {
    destination_stats s = c->stats;
    if (c->stats.recent_latency_s.size() == k_latency_ring) {
      // Oldest first.
      std::rotate(s.recent_latency_s.begin(),
                  s.recent_latency_s.begin() + static_cast<std::ptrdiff_t>(c->ring_next),
                  s.recent_latency_s.end());
    }
    if (c->index < depth.size()) {
      s.depth = depth[c->index];
      s.oldest_age_s = oldest[c->index];
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace aftershock::exporters
