// The aftershockd command line: parses arguments and dispatches to the subcommands. Returns a
// sysexits(3) code (0 ok, 64 usage, 66 no input, 70 software, 78 configuration).
#pragma once

namespace aftershock::daemon {

int run_cli(int argc, char** argv);

}  // namespace aftershock::daemon
