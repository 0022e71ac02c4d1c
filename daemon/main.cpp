// aftershockd: everything lives in the daemon library so tests can drive it without main().
#include "daemon/cli.h"

int main(int argc, char** argv) { return aftershock::daemon::run_cli(argc, argv); }
