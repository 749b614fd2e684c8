#pragma once
// The per-container supervisor: a small process (exec'd by mcore's launcher once the container's command
// runs) that is the container init's parent. It copies the command's output to the json-file log and to
// attached clients, answers clients on its socket (supervisor_protocol.hpp), and when the command exits
// writes the exit file, tells the clients, and then either
//  - hands the exit to the exit taker (a foreground `mcore run` without a restart policy, which has the
//    engine loaded already) with the liveness lock, and exits; or
//  - execs the exit command (mcore-exit-handler, core/exit-handler), which records the exit, tears down,
//    and applies the restart policy in this same process.
// Either way the liveness lock it inherited stays held until the container is fully accounted for.
#include <filesystem>
#include <string>
#include <vector>

#include "engine/logs/log_options.hpp"

namespace mcore::supervisor {

struct SupervisorOptions {
  std::string container_id;
  std::filesystem::path log_path;
  engine::LogOptions log;
  std::filesystem::path exit_file;
  std::filesystem::path socket_path;  // unlinked once the command exited
  int init_pidfd = -1;
  int stdout_fd = -1;   // read ends of the command's output pipes (-1 with a terminal)
  int stderr_fd = -1;
  int pty_fd = -1;      // the terminal's master side with -t
  int stdin_fd = -1;    // write end of the command's stdin pipe with -i (without -t)
  int listen_fd = -1;   // the bound, listening supervisor socket
  int client_fd = -1;   // an already attached client (foreground mcore run), or -1
  bool client_takes_exit = false;  // client_fd is the exit taker (supervisor_protocol.hpp, exit_handover)
  int lock_fd = -1;     // the liveness lock, handed on to whoever records the exit
  // Exec'd when the command exited. Its last word is an operand (the container id): the supervisor adds
  // its own flags (--lock-fd, --exit-code, --finished-at, --log-failures, --stop-requested) before it.
  std::vector<std::string> exit_command;
};

// Runs until the command exits, then execs the exit command. Returns only when that exec failed.
int run_supervisor(const SupervisorOptions& options);

}  // namespace mcore::supervisor
