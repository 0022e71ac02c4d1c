#include "exporters/outbox_sink.h"

#include <spdlog/spdlog.h>

#include "exporters/routing.h"
#include "exporters/url.h"

namespace aftershock::exporters {

namespace {

std::string without_trailing_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::unique_ptr<outbox_sink> outbox_sink::create(const outputs_config& config,
                                                 const std::string& state_dir,
                                                 std::vector<std::string>* errors) {
  std::vector<std::string> problems;
  for (const outputs_problem& p : validate(config)) problems.push_back(p.path + ": " + p.message);

  std::unique_ptr<outbox_sink> sink(new outbox_sink());
  sink->config_ = config;
  std::vector<std::string> names;
  for (const destination_config& d : config.destinations) {
    destination_runtime rt;
    rt.config = d;
    rt.limits = effective_limits(d);
    rt.retry = make_retry_policy(d);
    rt.render.grafana_url = config.grafana_url;
    rt.render.chat_id = d.chat_id;
    rt.render.username = d.username;
    rt.render.template_text = d.template_text;
    auto resolve = [&](const std::string& value, const char* what) -> std::string {
      std::string why;
      auto v = resolve_secret(value, &why);
      if (!v) {
        problems.push_back(d.name + ": " + what + ": " + why);
        return {};
      }
      return *v;
    };
    switch (d.type) {
      case destination_type::telegram: {
        const std::string base =
            d.url.empty() ? std::string("https://api.telegram.org") : resolve(d.url, "url");
        const std::string token = resolve(d.token, "token");
        rt.url = without_trailing_slash(base) + "/bot" + token + "/sendMessage";
        break;
      }
      case destination_type::alertmanager: {
        rt.url = without_trailing_slash(resolve(d.url, "url"));
        if (!ends_with(rt.url, "/api/v2/alerts")) rt.url += "/api/v2/alerts";
        break;
      }
      case destination_type::jsonl:
      case destination_type::console:
        break;
      default:
        rt.url = resolve(d.url, "url");
    }
    for (const auto& [name, value] : d.headers) {
      rt.headers.emplace_back(name, resolve(value, ("header " + name).c_str()));
    }
    if (is_http(d.type)) {
      if (!parse_http_url(rt.url)) {
        problems.push_back(d.name + ": the url is not an http:// or https:// URL once resolved");
      }
      rt.endpoint = redact_url(rt.url);
    } else {
      rt.endpoint = d.type == destination_type::console ? "stdout" : d.path;
    }
    names.push_back(d.name);
    sink->destinations_.push_back(std::move(rt));
  }
  if (!problems.empty()) {
    if (errors) *errors = std::move(problems);
    return nullptr;
  }

  outbox_options oo;
  oo.dir = state_dir;
  oo.max_alerts = config.outbox.max_alerts;
  oo.max_bytes = config.outbox.max_bytes;
  oo.commit_interval = std::chrono::microseconds(config.outbox.commit_interval / 1000);
  oo.commit_batch = config.outbox.commit_batch;
  oo.compact_min_bytes = config.outbox.compact_min_bytes;
  std::string error;
  sink->box_ = outbox::open(oo, names, &error);
  if (!sink->box_) {
    if (errors) errors->push_back(error);
    return nullptr;
  }
  sink->service_ = std::make_unique<delivery_service>(*sink->box_, sink->destinations_);
  return sink;
}

outbox_sink::~outbox_sink() { stop(std::chrono::steady_clock::duration::zero()); }

void outbox_sink::start() {
  if (started_) return;
  started_ = true;
  for (const destination_runtime& d : destinations_) {
    spdlog::info("output {}: {} -> {}", d.config.name, to_string(d.config.type), d.endpoint);
  }
  service_->start();
}

void outbox_sink::publish(const rules::alert& a) {
  box_->append(a, route_mask(config_.destinations, a));
}

bool outbox_sink::publish_to(const rules::alert& a, std::string_view destination) {
  for (std::size_t i = 0; i < destinations_.size(); ++i) {
    if (destinations_[i].config.name == destination) {
      return box_->append(a, std::uint64_t{1} << i) == append_result::queued;
    }
  }
  return false;
}

void outbox_sink::flush() { box_->flush(); }

std::size_t outbox_sink::stop(std::chrono::steady_clock::duration deadline) {
  if (stopped_) return box_ ? box_->pending_total() : 0;
  stopped_ = true;
  box_->flush();
  if (started_) box_->wait_idle(std::chrono::steady_clock::now() + deadline);
  service_->stop();
  box_->close();
  const std::size_t left = box_->pending_total();
  if (left > 0) {
    spdlog::warn(
        "outputs: {} alert deliver{} still pending at shutdown; they are kept in the "
        "outbox and retried on the next start",
        left, left == 1 ? "y" : "ies");
  }
  return left;
}

delivery_snapshot outbox_sink::stats() const {
  delivery_snapshot s;
  s.outbox = box_->stats();
  s.destinations = service_->stats();
  return s;
}

}  // namespace aftershock::exporters
