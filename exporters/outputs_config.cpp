#include "exporters/outputs_config.h"

#include <array>
#include <set>

#include "exporters/payload.h"
#include "exporters/url.h"

namespace aftershock::exporters {

namespace {

constexpr std::array<const char*, k_destination_type_count> k_type_names{
    "slack", "discord", "msteams", "telegram", "alertmanager", "webhook", "jsonl", "console"};

bool name_ok(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool header_name_ok(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

const char* to_string(destination_type t) noexcept {
  return k_type_names[static_cast<std::size_t>(t)];
}

std::optional<destination_type> destination_type_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < k_type_names.size(); ++i) {
    if (name == k_type_names[i]) return static_cast<destination_type>(i);
  }
  return std::nullopt;
}

bool is_http(destination_type t) noexcept {
  return t != destination_type::jsonl && t != destination_type::console;
}

destination_limits effective_limits(const destination_config& d) noexcept {
  destination_limits l{};
  switch (d.type) {
    case destination_type::slack:
      l = {10, 1.0, 2.0, 0};
      break;  // ~1 msg/s, short bursts
    case destination_type::discord:
      l = {10, 0, 1.0, 0};
      break;  // header-driven
    case destination_type::msteams:
      l = {10, 1.0, 2.0, 0};
      break;
    case destination_type::telegram:
      l = {10, 1.0, 1.0, 20};
      break;  // 1/s per chat, 20/min group
    case destination_type::alertmanager:
      l = {64, 0, 1.0, 0};
      break;
    case destination_type::webhook:
      l = {1, 0, 1.0, 0};
      break;  // template is per alert
    case destination_type::jsonl:
    case destination_type::console:
      l = {256, 0, 1.0, 0};
      break;
  }
  const std::size_t platform_max = l.max_group;
  if (d.max_group > 0) l.max_group = std::min(d.max_group, platform_max);
  if (d.rate_per_second >= 0) l.rate_per_second = d.rate_per_second;
  if (d.burst > 0) l.burst = d.burst;
  if (d.type == destination_type::telegram) {
    if (d.group_per_minute >= 0) l.group_per_minute = d.group_per_minute;
    // Only groups and channels (negative ids, or @channelname) share the per-group limit.
    if (d.chat_id.empty() || (d.chat_id.front() != '-' && d.chat_id.front() != '@')) {
      l.group_per_minute = 0;
    }
  }
  return l;
}

std::vector<outputs_problem> validate(const outputs_config& config) {
  std::vector<outputs_problem> problems;
  auto problem = [&](std::string path, std::string message) {
    problems.push_back({std::move(path), std::move(message)});
  };
  const outbox_config& ob = config.outbox;
  if (ob.max_alerts == 0) problem("outputs.outbox.max_alerts", "max_alerts must be at least 1");
  if (ob.max_bytes < (64u << 10)) {
    problem("outputs.outbox.max_bytes", "max_bytes must be at least 65536");
  }
  if (ob.commit_interval < 0 || ob.commit_interval > rules::k_ns_per_s) {
    problem("outputs.outbox.commit_interval", "commit_interval must be between 0s and 1s");
  }
  if (ob.commit_batch == 0)
    problem("outputs.outbox.commit_batch", "commit_batch must be at least 1");

  if (!config.grafana_url.empty()) {
    if (std::string e = check_template(config.grafana_url); !e.empty()) {
      problem("outputs.grafana_url", "grafana_url: " + e);
    } else {
      // Placeholders stand for percent-encoded values: check the URL with a stand-in.
      std::string probe = config.grafana_url;
      for (std::size_t at = probe.find("{{"); at != std::string::npos; at = probe.find("{{")) {
        probe.replace(at, probe.find("}}", at) + 2 - at, "x");
      }
      if (!parse_http_url(probe)) {
        problem("outputs.grafana_url", "grafana_url must be an http:// or https:// URL");
      }
    }
  }

  if (config.destinations.size() > 64) {
    problem("outputs.destinations", "at most 64 destinations are supported");
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < config.destinations.size(); ++i) {
    const destination_config& d = config.destinations[i];
    const std::string path = "outputs.destinations[" + std::to_string(i) + "]";
    if (!name_ok(d.name)) {
      problem(path + ".name",
              "destination name '" + d.name + "' must be 1-64 letters, digits, '_', '-' or '.'");
    } else if (!names.insert(d.name).second) {
      problem(path + ".name", "duplicate destination name '" + d.name + "'");
    }
    auto check_url = [&](const std::string& value, const char* field, bool required) {
      if (value.empty()) {
        if (required) problem(path, std::string(to_string(d.type)) + " destination needs " + field);
        return;
      }
      if (is_secret_ref(value)) {
        if (std::string e = check_secret_ref(value); !e.empty()) {
          problem(path + "." + field, std::string(field) + ": " + e);
        }
        return;
      }
      const auto u = parse_http_url(value);
      if (!u) {
        problem(path + "." + field, std::string(field) +
                                        " must be an http:// or https:// URL or a secret "
                                        "reference (env:NAME, file:PATH, cred:NAME)");
        return;
      }
      if (d.type == destination_type::msteams && (ends_with(lower(u->host), "webhook.office.com") ||
                                                  lower(u->host) == "outlook.office.com")) {
        problem(path + "." + field,
                "Office 365 connector webhooks are retired; create a Workflows webhook "
                "(\"Post to a channel when a webhook request is received\") and use its URL");
      }
    };
    switch (d.type) {
      case destination_type::slack:
      case destination_type::discord:
      case destination_type::msteams:
      case destination_type::alertmanager:
      case destination_type::webhook:
        check_url(d.url, "url", true);
        break;
      case destination_type::telegram:
        check_url(d.url, "url", false);
        if (d.token.empty())
          problem(path, "telegram destination needs token (e.g. env:TELEGRAM_BOT_TOKEN)");
        else if (std::string e = check_secret_ref(d.token); !e.empty())
          problem(path + ".token", "token: " + e);
        if (d.chat_id.empty()) problem(path, "telegram destination needs chat_id");
        break;
      case destination_type::jsonl:
        if (d.path.empty()) problem(path, "jsonl destination needs path");
        break;
      case destination_type::console:
        break;
    }
    if (!d.template_text.empty()) {
      if (d.type != destination_type::webhook) {
        problem(path + ".template", "template is only used by webhook destinations");
      } else if (std::string e = check_template(d.template_text); !e.empty()) {
        problem(path + ".template", "template: " + e);
      }
    }
    for (const auto& [name, value] : d.headers) {
      if (d.type != destination_type::webhook && d.type != destination_type::alertmanager) {
        problem(path + ".headers",
                "headers are only used by webhook and alertmanager destinations");
        break;
      }
      const std::string l = lower(name);
      if (!header_name_ok(name) || l == "host" || l == "content-length" ||
          l == "transfer-encoding" || l == "connection") {
        problem(path + ".headers", "header '" + name + "' cannot be set");
      }
      if (std::string e = check_secret_ref(value); !e.empty()) {
        problem(path + ".headers." + name, name + ": " + e);
      }
    }
    if (!d.ca_file.empty() && !is_http(d.type)) {
      problem(path + ".ca_file", "ca_file is only used by HTTP destinations");
    }
    if (d.timeout <= 0) problem(path + ".timeout", "timeout must be positive");
    if (d.max_retry_after <= 0)
      problem(path + ".max_retry_after", "max_retry_after must be positive");
    if (d.backoff_initial <= 0 || d.backoff_max < d.backoff_initial) {
      problem(path + ".backoff", "backoff needs 0 < initial <= max");
    }
    if (d.group_window < 0 || d.group_window > 10 * rules::k_ns_per_min) {
      problem(path + ".group_window", "group_window must be between 0s and 10m");
    }
    if (d.type == destination_type::alertmanager && d.resend_interval < rules::k_ns_per_s) {
      problem(path + ".resend_interval", "resend_interval must be at least 1s");
    }
    if (d.rate_per_second < 0 && d.rate_per_second != -1) {
      problem(path + ".rate", "rate per_second must be 0 (unlimited) or positive");
    }
  }
  return problems;
}

}  // namespace aftershock::exporters
