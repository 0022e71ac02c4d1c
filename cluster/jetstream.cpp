#include "cluster/jetstream.h"

#include <nats/nats.h>

#include <mutex>
#include <thread>
#include <unordered_map>

namespace aftershock::cluster {

namespace {

using clock_type = std::chrono::steady_clock;

std::string status_text(natsStatus s, jsErrCode jerr = static_cast<jsErrCode>(0)) {
  std::string out = natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0') out += std::string(": ") + detail;
  if (jerr != 0) out += " (JetStream error " + std::to_string(static_cast<int>(jerr)) + ")";
  return out;
}

void on_disconnected(natsConnection*, void* closure) {
  static_cast<transport_stats*>(closure)->disconnects.fetch_add(1, std::memory_order_relaxed);
}
void on_reconnected(natsConnection*, void* closure) {
  static_cast<transport_stats*>(closure)->reconnects.fetch_add(1, std::memory_order_relaxed);
}
// Also what makes the library watch consumer heartbeats: without an error handler an ordered
// consumer whose server died would wait silently instead of being re-created.
void on_async_error(natsConnection*, natsSubscription*, natsStatus, void* closure) {
  static_cast<transport_stats*>(closure)->async_errors.fetch_add(1, std::memory_order_relaxed);
}

// Errors after which a publish or a request is worth retrying: the cluster is electing a
// leader, a server went away, or the connection is between servers.
bool transient(natsStatus s) {
  return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || s == NATS_CONNECTION_CLOSED ||
         s == NATS_CONNECTION_DISCONNECTED || s == NATS_STALE_CONNECTION || s == NATS_IO_ERROR ||
         s == NATS_ERR;
}

}  // namespace

// ---- message -------------------------------------------------------------------------------

message::message(natsMsg* m) : msg_(m) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, m) == NATS_OK && meta != nullptr) {
    stream_seq_ = meta->Sequence.Stream;
    pending_ = meta->NumPending;
    delivered_ = meta->NumDelivered;
    jsMsgMetaData_Destroy(meta);
  }
}
message::message(message&& other) noexcept
    : msg_(other.msg_),
      stream_seq_(other.stream_seq_),
      pending_(other.pending_),
      delivered_(other.delivered_) {
  other.msg_ = nullptr;
}
message& message::operator=(message&& other) noexcept {
  if (this != &other) {
    if (msg_) natsMsg_Destroy(msg_);
    msg_ = other.msg_;
    other.msg_ = nullptr;
    stream_seq_ = other.stream_seq_;
    pending_ = other.pending_;
    delivered_ = other.delivered_;
  }
  return *this;
}
message::~message() {
  if (msg_) natsMsg_Destroy(msg_);
}
std::string_view message::subject() const {
  return msg_ ? std::string_view(natsMsg_GetSubject(msg_)) : std::string_view();
}
std::string_view message::data() const {
  if (!msg_) return {};
  return {natsMsg_GetData(msg_), static_cast<std::size_t>(natsMsg_GetDataLength(msg_))};
}
std::string message::header(const char* key) const {
  const char* value = nullptr;
  if (msg_ && natsMsgHeader_Get(msg_, key, &value) == NATS_OK && value) return value;
  return {};
}
bool message::ack() { return msg_ && natsMsg_Ack(msg_, nullptr) == NATS_OK; }

// ---- jetstream -----------------------------------------------------------------------------

// Outcomes of the asynchronous publishes in flight, by message id (the library's threads
// write them, publish_ordered reads them).
struct jetstream::async_results {
  std::mutex mutex;
  std::unordered_map<std::string, int> outcome;  // 1 stored, 2 duplicate, -1 failed
};

namespace {
void on_async_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* results = static_cast<jetstream::async_results*>(closure);
  const char* id = nullptr;
  if (msg != nullptr && natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) {
    const int outcome = pae != nullptr ? -1 : (pa != nullptr && pa->Duplicate ? 2 : 1);
    std::lock_guard lock(results->mutex);
    results->outcome[id] = outcome;
  }
  natsMsg_Destroy(msg);  // ours to free, acknowledged or not
}
}  // namespace

jetstream::jetstream(cluster_config config)
    : config_(std::move(config)),
      async_(std::make_unique<async_results>()),
      stats_(std::make_unique<transport_stats>()) {}

jetstream::~jetstream() {
  if (async_js_) jsCtx_Destroy(async_js_);
  if (js_) jsCtx_Destroy(js_);
  if (conn_) {
    natsConnection_FlushTimeout(conn_, 1000);
    natsConnection_Close(conn_);
    natsConnection_Destroy(conn_);
  }
}

std::unique_ptr<jetstream> jetstream::connect(const cluster_config& config, const std::string& name,
                                              std::chrono::milliseconds deadline,
                                              std::string* error) {
  std::unique_ptr<jetstream> self(new jetstream(config));
  std::vector<const char*> urls;
  for (const auto& s : config.servers) urls.push_back(s.c_str());
  natsOptions* opts = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK) {
    if (error) *error = "cannot allocate NATS options";
    return nullptr;
  }
  natsOptions_SetServers(opts, urls.data(), static_cast<int>(urls.size()));
  natsOptions_SetName(opts, name.c_str());
  natsOptions_SetTimeout(opts, 2000);     // per connection attempt
  natsOptions_SetMaxReconnect(opts, -1);  // never give up once connected
  natsOptions_SetReconnectWait(opts, 250);
  natsOptions_SetReconnectBufSize(opts, 64 << 20);
  natsOptions_SetPingInterval(opts, 2000);  // notice a dead server within seconds
  natsOptions_SetMaxPingsOut(opts, 2);
  natsOptions_SetDisconnectedCB(opts, on_disconnected, self->stats_.get());
  natsOptions_SetReconnectedCB(opts, on_reconnected, self->stats_.get());
  natsOptions_SetErrorHandler(opts, on_async_error, self->stats_.get());
  const auto until = clock_type::now() + deadline;
  natsStatus s = NATS_OK;
  do {
    s = natsConnection_Connect(&self->conn_, opts);
    if (s == NATS_OK) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (clock_type::now() < until);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    if (error) *error = "cannot connect to any NATS server: " + status_text(s);
    return nullptr;
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  s = natsConnection_JetStream(&self->js_, self->conn_, &jo);
  if (s == NATS_OK) {
    jsOptions ao;
    jsOptions_Init(&ao);
    ao.Wait = 5000;
    ao.PublishAsync.MaxPending = 8192;
    ao.PublishAsync.AckHandler = on_async_ack;
    ao.PublishAsync.AckHandlerClosure = self->async_.get();
    s = natsConnection_JetStream(&self->async_js_, self->conn_, &ao);
  }
  if (s != NATS_OK) {
    if (error) *error = "no JetStream context: " + status_text(s);
    return nullptr;
  }
  return self;
}

bool jetstream::ensure_streams(std::chrono::milliseconds deadline, std::string* error) {
  struct wanted {
    const std::string* name;
    std::vector<const char*> subjects;
    const stream_limits* limits;
  };
  const std::string events_subjects = std::string(k_events_subject_filter);
  const std::string alerts_subjects = std::string(k_alerts_subject_filter);
  const std::string stage_subjects = std::string(k_stage_subject_filter);
  const wanted streams[] = {{&config_.events_stream, {events_subjects.c_str()}, &config_.events},
                            {&config_.alerts_stream, {alerts_subjects.c_str()}, &config_.alerts},
                            {&config_.stage_stream, {stage_subjects.c_str()}, &config_.stage}};
  const auto until = clock_type::now() + deadline;
  for (const wanted& w : streams) {
    while (true) {
      jsStreamInfo* info = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      natsStatus s = js_GetStreamInfo(&info, js_, w.name->c_str(), nullptr, &jerr);
      if (s == NATS_OK) {
        jsStreamInfo_Destroy(info);
        break;
      }
      jsStreamConfig sc;
      jsStreamConfig_Init(&sc);
      sc.Name = w.name->c_str();
      sc.Subjects = const_cast<const char**>(w.subjects.data());
      sc.SubjectsLen = static_cast<int>(w.subjects.size());
      sc.Storage = js_FileStorage;
      sc.Replicas = config_.replicas;
      sc.MaxBytes = w.limits->max_bytes;
      sc.MaxAge = w.limits->max_age;
      sc.Duplicates = config_.duplicate_window;
      sc.Discard = js_DiscardOld;
      jerr = static_cast<jsErrCode>(0);
      s = js_AddStream(&info, js_, &sc, nullptr, &jerr);
      if (s == NATS_OK) {
        jsStreamInfo_Destroy(info);
        break;
      }
      if (clock_type::now() >= until) {
        if (error) *error = "cannot create stream " + *w.name + ": " + status_text(s, jerr);
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  return true;
}

jetstream::publish_result jetstream::publish(const std::string& subject, std::string_view data,
                                             const std::string& msg_id,
                                             std::chrono::milliseconds deadline) {
  const auto until = clock_type::now() + deadline;
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = msg_id.c_str();
  po.MaxWait = 2000;
  bool first = true;
  while (true) {
    if (!first) stats_->publish_retries.fetch_add(1, std::memory_order_relaxed);
    first = false;
    jsPubAck* ack = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_Publish(&ack, js_, subject.c_str(), data.data(),
                                    static_cast<int>(data.size()), &po, &jerr);
    if (s == NATS_OK) {
      const bool duplicate = ack != nullptr && ack->Duplicate;
      jsPubAck_Destroy(ack);
      if (duplicate) {
        stats_->duplicates.fetch_add(1, std::memory_order_relaxed);
        return publish_result::duplicate;
      }
      stats_->published.fetch_add(1, std::memory_order_relaxed);
      return publish_result::stored;
    }
    if (!transient(s) || clock_type::now() >= until) {
      stats_->publish_failures.fetch_add(1, std::memory_order_relaxed);
      return publish_result::failed;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::size_t jetstream::publish_ordered(const std::vector<outgoing>& batch, std::string& last_id,
                                       std::chrono::milliseconds deadline) {
  {
    std::lock_guard lock(async_->mutex);
    async_->outcome.clear();
  }
  std::size_t sent = 0;
  const std::string* previous = last_id.empty() ? nullptr : &last_id;
  for (const outgoing& m : batch) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = m.msg_id.c_str();
    po.ExpectLastMsgId = previous ? previous->c_str() : nullptr;
    po.MaxWait = std::max<std::int64_t>(deadline.count(), 500);
    if (js_PublishAsync(async_js_, m.subject.c_str(), m.data.data(),
                        static_cast<int>(m.data.size()), &po) != NATS_OK) {
      break;  // the rest waits for the next call
    }
    previous = &m.msg_id;
    ++sent;
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = std::max<std::int64_t>(deadline.count(), 500);
  if (js_PublishAsyncComplete(async_js_, &wait) != NATS_OK) {
    // Unanswered: take them back (they count as not stored; resent with the same ids).
    natsMsgList pending{nullptr, 0};
    if (js_PublishAsyncGetPendingList(&pending, async_js_) == NATS_OK)
      natsMsgList_Destroy(&pending);
  }
  std::size_t stored = 0;
  {
    std::lock_guard lock(async_->mutex);
    for (std::size_t i = 0; i < sent; ++i) {
      auto it = async_->outcome.find(batch[i].msg_id);
      if (it == async_->outcome.end() || it->second < 0) break;
      if (it->second == 2) stats_->duplicates.fetch_add(1, std::memory_order_relaxed);
      ++stored;
    }
  }
  stats_->published.fetch_add(stored, std::memory_order_relaxed);
  if (stored < batch.size()) stats_->publish_retries.fetch_add(1, std::memory_order_relaxed);
  if (stored > 0) last_id = batch[stored - 1].msg_id;
  return stored;
}

std::unique_ptr<ordered_reader> jetstream::read_ordered(const std::string& stream,
                                                        std::uint64_t from_sequence,
                                                        std::string* error,
                                                        const std::string& filter) {
  std::unique_ptr<ordered_reader> reader(new ordered_reader());
  const std::string subject =
      !filter.empty() ? filter
                      : std::string(stream == config_.alerts_stream ? k_alerts_subject_filter
                                    : stream == config_.stage_stream ? k_stage_subject_filter
                                                                     : k_events_subject_filter);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.Heartbeat = 1 * rules::k_ns_per_s;  // notice a lost consumer within seconds
  if (from_sequence > 1) {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = from_sequence;
  } else {
    so.Config.DeliverPolicy = js_DeliverAll;
  }
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_SubscribeSync(&reader->sub_, js_, subject.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    if (error) *error = "cannot read stream " + stream + ": " + status_text(s, jerr);
    return nullptr;
  }
  // The engine reads as fast as it can; let the library buffer generously.
  natsSubscription_SetPendingLimits(reader->sub_, 1 << 20, 1 << 30);
  return reader;
}

std::optional<std::string> jetstream::last_message_data(const std::string& stream,
                                                        const std::string& subject) {
  natsMsg* msg = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (js_GetLastMsg(&msg, js_, stream.c_str(), subject.c_str(), nullptr, &jerr) != NATS_OK) {
    return std::nullopt;
  }
  std::string data(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
  return data;
}

std::unique_ptr<durable_reader> jetstream::read_durable(const std::string& stream,
                                                        const std::string& subject,
                                                        const std::string& durable,
                                                        std::string* error) {
  std::unique_ptr<durable_reader> reader(new durable_reader());
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Config.Durable = durable.c_str();
  so.Config.AckPolicy = js_AckExplicit;
  so.Config.AckWait = config_.ack_wait;
  so.Config.DeliverPolicy = js_DeliverAll;
  so.Config.MaxAckPending = 1024;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_PullSubscribe(&reader->sub_, js_, subject.c_str(), durable.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    if (error) *error = "cannot consume " + stream + " as " + durable + ": " + status_text(s, jerr);
    return nullptr;
  }
  return reader;
}

std::uint64_t jetstream::stream_messages(const std::string& stream) {
  jsStreamInfo* info = nullptr;
  if (js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, nullptr) != NATS_OK) return 0;
  const std::uint64_t n = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  return n;
}

bool jetstream::consumer_lag(const std::string& stream, const std::string& durable,
                             std::uint64_t& pending, std::uint64_t& ack_pending) {
  jsConsumerInfo* info = nullptr;
  if (js_GetConsumerInfo(&info, js_, stream.c_str(), durable.c_str(), nullptr, nullptr) !=
      NATS_OK) {
    return false;
  }
  pending = info->NumPending;
  ack_pending = static_cast<std::uint64_t>(info->NumAckPending);
  jsConsumerInfo_Destroy(info);
  return true;
}

std::string jetstream::connected_url() const {
  char buf[256] = {0};
  if (conn_ && natsConnection_GetConnectedUrl(conn_, buf, sizeof buf) == NATS_OK) return buf;
  return {};
}

// ---- readers -------------------------------------------------------------------------------

ordered_reader::~ordered_reader() {
  if (sub_) {
    natsSubscription_Unsubscribe(sub_);  // an ephemeral consumer: let the server drop it now
    natsSubscription_Destroy(sub_);
  }
}

std::optional<message> ordered_reader::next(std::chrono::milliseconds timeout) {
  natsMsg* m = nullptr;
  if (natsSubscription_NextMsg(&m, sub_, timeout.count()) != NATS_OK || m == nullptr) {
    return std::nullopt;
  }
  return message(m);
}

durable_reader::~durable_reader() {
  // Destroy only: the durable consumer stays for the next notifier (libnats >= 3.4).
  if (sub_) natsSubscription_Destroy(sub_);
}

std::vector<message> durable_reader::fetch(int batch, std::chrono::milliseconds timeout) {
  std::vector<message> out;
  natsMsgList list{nullptr, 0};
  if (natsSubscription_Fetch(&list, sub_, batch, timeout.count(), nullptr) != NATS_OK) return out;
  out.reserve(static_cast<std::size_t>(list.Count));
  for (int i = 0; i < list.Count; ++i) {
    out.emplace_back(list.Msgs[i]);
    list.Msgs[i] = nullptr;  // owned by `out` now
  }
  natsMsgList_Destroy(&list);
  return out;
}

}  // namespace aftershock::cluster
