// The aftershockd command line: parses arguments and dispatches to the subcommands. Returns a
// sysexits(3) code (0 ok, 64 usage, 66 no input, 70 software, 78 configuration).
#pragma once

#include <string>

namespace aftershock::daemon {

struct loaded_config;

int run_cli(int argc, char** argv);

/// Prints every configuration problem to stderr and returns the configuration exit code (78).
int report_config_errors(const loaded_config& loaded);

/// Options given before or after the subcommand that every command sees. Filled by run_cli;
/// read by the commands (run applies the config's log_level unless --log-level was given).
struct global_options {
  std::string log_level;  // empty: not given (the config's log_level, else info)
  std::string log_format = "auto";
};
global_options& global_cli_options();

/// What --version prints: version, commit, build type, compiler, library versions.
std::string version_text();

}  // namespace aftershock::daemon
