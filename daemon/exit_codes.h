// Process exit codes, following sysexits(3) so systemd and scripts can tell causes apart.
// deploy/systemd/aftershock.service restarts on failure except for k_exit_config
// (RestartPreventExitStatus=78): a broken configuration does not heal by restarting.
#pragma once

namespace aftershock::daemon {

inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_usage = 64;     // EX_USAGE: bad command line
inline constexpr int k_exit_no_input = 66;  // EX_NOINPUT: a capture could not be read
inline constexpr int k_exit_unavailable = 69;  // EX_UNAVAILABLE: a destination took nothing
inline constexpr int k_exit_software = 70;  // EX_SOFTWARE: internal error
inline constexpr int k_exit_io = 74;        // EX_IOERR: output could not be written
inline constexpr int k_exit_config = 78;    // EX_CONFIG: configuration error

}  // namespace aftershock::daemon
