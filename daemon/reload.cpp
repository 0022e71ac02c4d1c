#include "daemon/reload.h"

#include <spdlog/spdlog.h>

#include "daemon/cli.h"
#include "daemon/config_loader.h"
#include "daemon/logging.h"

namespace aftershock::daemon {

namespace {

void append_list(std::string& out, const std::vector<std::string>& items) {
  for (const std::string& s : items) out += s + ',';
  out += '|';
}

// What a running feed session was built from; a difference means the feed needs a restart.
std::string feeds_signature(const std::vector<feed_config>& feeds) {
  std::string out;
  for (const feed_config& f : feeds) {
    out += f.name + '|' + f.dialect + '|' + f.url + '|' + f.key + '|' + f.secret + '|' + f.market +
           '|' + f.subscribe_message + '|' + f.ca_file + '|';
    append_list(out, f.symbols);
    append_list(out, f.channels);
    out += std::to_string(f.stale_after.value_or(-1)) + '|' + std::to_string(f.idle_timeout) + ';';
  }
  return out;
}

std::string outputs_signature(const exporters::outputs_config& o) {
  std::string out = o.grafana_url + '|' + o.outbox.state_dir + '|' +
                    std::to_string(o.outbox.max_alerts) + '|' + std::to_string(o.outbox.max_bytes);
  for (const exporters::destination_config& d : o.destinations) {
    out += ';' + d.name + '|' + exporters::to_string(d.type) + '|' + d.url + '|' + d.token + '|' +
           d.chat_id + '|' + d.path + '|' + d.template_text + '|' +
           std::to_string(static_cast<int>(d.route.min_severity)) + '|';
    append_list(out, d.route.rules);
    append_list(out, d.route.symbols);
    append_list(out, d.route.themes);
  }
  return out;
}

}  // namespace

reload_outcome prepare_reload(const std::string& path, const daemon_config& running) {
  reload_outcome out;
  loaded_config loaded = load_config_file(path);
  if (!loaded.ok()) {
    for (const config_error& e : loaded.errors) spdlog::error("reload: {}", e.to_string());
    const std::string what =
        fmt::format("{} problem{} in {}; still running config {}", loaded.errors.size(),
                    loaded.errors.size() == 1 ? "" : "s", path, running.content_hash);
    spdlog::error("reload: refused, {}", what);
    out.summary = "reload failed: " + what;
    if (!loaded.errors.empty()) out.summary += " (first: " + loaded.errors[0].to_string() + ")";
    return out;
  }
  if (feeds_signature(loaded.config.feeds) != feeds_signature(running.feeds)) {
    out.restart_needed.push_back("feeds");
  }
  if (outputs_signature(loaded.config.outputs) != outputs_signature(running.outputs)) {
    out.restart_needed.push_back("outputs");
  }
  for (const std::string& section : out.restart_needed) {
    spdlog::warn(
        "reload: the {}: section changed; it applies at the next restart only "
        "(systemctl restart aftershock)",
        section);
  }
  // The config's log level applies unless --log-level / $AFTERSHOCK_LOG_LEVEL overrides it.
  if (global_cli_options().log_level.empty()) {
    set_log_level(
        parse_log_level(loaded.config.log_level.empty() ? "info" : loaded.config.log_level)
            .value_or(spdlog::level::info));
  }
  out.ok = true;
  out.rules = loaded.compiled;
  out.summary = fmt::format("reloaded {} (config {} -> {}; {} rules, {} symbols){}", path,
                            running.content_hash, loaded.config.content_hash,
                            loaded.config.rules.rules.size(), loaded.config.rules.universe.size(),
                            out.restart_needed.empty() ? "" : "; restart needed for feeds/outputs");
  out.config = std::move(loaded.config);
  spdlog::info("reload: {}", out.summary);
  return out;
}

std::string service_status(const runner_snapshot& s, const std::string& config_hash) {
  std::string feeds;
  std::size_t streaming = 0;
  for (const feed_snapshot& f : s.feeds) {
    if (!feeds.empty()) feeds += ", ";
    feeds += f.session.name + ' ' + feeds::to_string(f.session.state);
    streaming += f.session.state == feeds::feed_state::streaming;
  }
  return fmt::format("{}/{} feeds streaming ({}); {} events, {} alerts, {} dropped; config {}",
                     streaming, s.feeds.size(), feeds, s.engine.events, s.alerts_published,
                     s.queue_dropped, config_hash);
}

}  // namespace aftershock::daemon
