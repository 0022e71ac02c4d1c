#include "daemon/cli.h"

#include <fmt/format.h>
#include <link.h>
#include <openssl/crypto.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <spdlog/version.h>

#include <CLI/CLI.hpp>
#include <boost/version.hpp>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "daemon/build_info.h"
#include "daemon/commands.h"
#include "daemon/config_loader.h"
#include "daemon/exit_codes.h"
#include "daemon/logging.h"

namespace aftershock::daemon {

namespace {

// The man page's closing sections, shown under every --help.
constexpr const char* k_footer = R"(EXIT STATUS
  0   success (run: stopped by SIGTERM or SIGINT after draining and flushing)
  64  usage error: unknown option, missing argument (EX_USAGE)
  66  a capture file could not be read (EX_NOINPUT)
  69  test-notify: the destination took nothing (EX_UNAVAILABLE)
  70  internal error (EX_SOFTWARE)
  74  an output file or directory could not be written (EX_IOERR)
  78  configuration error, every problem listed as FILE:LINE:COL (EX_CONFIG); systemd does not
      restart on it (RestartPreventExitStatus=78)

FILES
  /etc/aftershock/aftershock.yaml         the configuration (calendars/ next to it)
  /etc/aftershock/aftershock.schema.json  JSON Schema of the configuration, for editors
  /var/lib/aftershock/                    the durable outbox ($STATE_DIRECTORY under systemd)
  /usr/share/aftershock/                  demo scenario, Grafana dashboards, Prometheus files

ENVIRONMENT
  AFTERSHOCK_FEED_HOST    run: HOST:PORT replacing every feed URL's host (like --feed-host)
  AFTERSHOCK_LOG_LEVEL    log level when --log-level is not given
  CREDENTIALS_DIRECTORY   where cred:NAME secrets are read (systemd LoadCredential=)
  STATE_DIRECTORY         outbox directory when neither --state-dir nor outputs.outbox.state_dir
  JOURNAL_STREAM          set by systemd: log lines carry <N> priorities and key=value fields
  NOTIFY_SOCKET, WATCHDOG_USEC  set by systemd (Type=notify, WatchdogSec=): READY=1, STATUS=,
                          WATCHDOG=1 from the engine thread, RELOADING=1, STOPPING=1
  NO_COLOR                no colors on a terminal
  Secrets named env:NAME in the configuration are read from the variable NAME.

SIGNALS (run)
  SIGTERM, SIGINT  stop reading the feeds, drain the queue through the engine, deliver or
                   persist pending alerts (outbox), exit 0 within about 5 s
  SIGHUP           reload: read and validate the configuration file again, then swap the
                   rules in the running engine (state kept for surviving rules); a bad file
                   keeps the running configuration and logs FILE:LINE:COL errors
  Feeds and outputs are read at start only: changing them needs a restart.

See README.md ("Operations") for install, feed keys, chat destinations and troubleshooting.)";

// The version of a shared library this process has loaded, from its file name
// (libprometheus-cpp-core.so.1.0.1 -> 1.0.1); empty when it is not loaded.
std::string loaded_library_version(const std::string& soname_prefix) {
  struct search {
    const std::string* prefix;
    std::string version;
  } s{&soname_prefix, {}};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) -> int {
        auto* s = static_cast<search*>(data);
        if (info->dlpi_name == nullptr || *info->dlpi_name == '\0') return 0;
        char resolved[PATH_MAX];
        const std::string path =
            realpath(info->dlpi_name, resolved) != nullptr ? resolved : info->dlpi_name;
        const std::string base = path.substr(path.find_last_of('/') + 1);
        const std::string marker = *s->prefix + ".so.";
        if (base.rfind(marker, 0) == 0) {
          s->version = base.substr(marker.size());
          return 1;
        }
        return 0;
      },
      &s);
  return s.version;
}

}  // namespace

std::string version_text() {
  std::string out = fmt::format("aftershockd {}\n", AFTERSHOCK_VERSION);
  out += fmt::format("commit:      {}\n", AFTERSHOCK_COMMIT);
  out += fmt::format("build type:  {}\n", AFTERSHOCK_BUILD_TYPE);
  out += fmt::format("compiler:    {}\n", AFTERSHOCK_COMPILER);
  out += "libraries:\n";
  out += fmt::format("  Boost          {}.{}.{}\n", BOOST_VERSION / 100000,
                     BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100);
  out += fmt::format("  OpenSSL        {} (built with {})\n", OpenSSL_version(OPENSSL_VERSION),
                     OPENSSL_VERSION_TEXT);
  out += fmt::format("  simdjson       {}\n", SIMDJSON_STRINGIFY(SIMDJSON_VERSION));
  out += fmt::format("  yaml-cpp       {}\n", AFTERSHOCK_YAML_CPP_VERSION);
  out += fmt::format("  spdlog         {}.{}.{} (fmt {}.{}.{})\n", SPDLOG_VER_MAJOR,
                     SPDLOG_VER_MINOR, SPDLOG_VER_PATCH, FMT_VERSION / 10000,
                     FMT_VERSION / 100 % 100, FMT_VERSION % 100);
  out += fmt::format("  CLI11          {}\n", CLI11_VERSION);
  out += fmt::format("  libsystemd     {}\n", AFTERSHOCK_LIBSYSTEMD_VERSION);
  if (const std::string p = loaded_library_version("libprometheus-cpp-core"); !p.empty()) {
    out += fmt::format("  prometheus-cpp {}\n", p);
  }
  return out;
}

int report_config_errors(const loaded_config& loaded) {
  for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  std::fprintf(stderr, "%zu configuration problem%s; nothing was started\n", loaded.errors.size(),
               loaded.errors.size() == 1 ? "" : "s");
  return k_exit_config;
}

global_options& global_cli_options() {
  static global_options options;
  return options;
}

int run_cli(int argc, char** argv) {
  global_options& global = global_cli_options();
  global = global_options{};
  setup_logging(log_settings{});

  CLI::App app{
      "aftershockd - links AI headlines (English and Chinese) to the tickers they move and\n"
      "alerts when a move crosses a threshold, citing the headlines that likely explain it.\n\n"
      "Every event carries its own market time and the rules read time only from events, so\n"
      "`replay` of a recorded day produces exactly the alerts a live run produced. `run` is the\n"
      "live daemon (a systemd Type=notify service); `check-config` validates a configuration;\n"
      "`test-notify` sends one synthetic alert through a destination.",
      "aftershockd"};
  app.require_subcommand(0, 1);
  app.fallthrough();  // global options are accepted after the subcommand too
  app.footer(k_footer);
  app.get_formatter()->column_width(34);
  bool show_version = false;
  app.add_flag("-V,--version", show_version,
               "Print the version, the commit it was built from, the build type and the library "
               "versions, then exit");
  app.add_option("--log-level", global.log_level,
                 "Log level: trace, debug, info, warning, error, critical or off (default: the "
                 "config's log_level, else info)")
      ->envname("AFTERSHOCK_LOG_LEVEL")
      ->check(
          CLI::IsMember({"trace", "debug", "info", "warning", "warn", "error", "critical", "off"}));
  app.add_option("--log-format", global.log_format,
                 "Log lines: auto (journal under systemd, color on a terminal, else plain), "
                 "journal, color, plain")
      ->check(CLI::IsMember({"auto", "journal", "color", "plain"}));

  command_action action;
  add_replay_command(app, action);
  add_check_config_command(app, action);
  add_test_notify_command(app, action);
  add_run_command(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? k_exit_ok : k_exit_usage;
  }
  if (show_version) {
    std::fputs(version_text().c_str(), stdout);
    return k_exit_ok;
  }
  log_settings settings;
  if (!global.log_level.empty()) settings.level = *parse_log_level(global.log_level);
  if (global.log_format == "journal")
    settings.style = log_style::journal;
  else if (global.log_format == "color")
    settings.style = log_style::color;
  else if (global.log_format == "plain")
    settings.style = log_style::plain;
  setup_logging(settings);
  if (action) return action();
  std::cout << app.help();
  return k_exit_usage;
}

}  // namespace aftershock::daemon
