#pragma once
// The foreground side of a command `mcore exec` started: mcore is its parent, so it waits on the
// process's pidfd, forwards the signals mcore gets to it, copies its output (from the PTY with -t,
// else from its stdout and stderr pipes) to mcore's own and mcore's stdin to it with -i, and passes
// window-size changes on to the PTY.
#include "engine/start/container_process.hpp"
#include "engine/io/io_relay.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {

// Copies mcore's terminal size (from stdin, else stdout) to the PTY master.
void copy_window_size(int pty_master);

struct ExecRelayOptions {
  int pty_master = -1;         // with -t: the terminal's master, copied both ways
  bool forward_stdin = false;  // -i: copy mcore's stdin into the PTY or stdin_pipe
  UniqueFd stdin_pipe;         // without -t, with -i: the command's stdin, closed when mcore's ends
  UniqueFd stdout_pipe;        // without -t: the read ends of the command's stdout and stderr, closed
  UniqueFd stderr_pipe;        // when mcore's own stdout or stderr is gone, so the command sees EPIPE
};

// Runs until the process exits, then copies what its output still holds; returns its exit code
// Docker-style (the code, or 128+signal).
int relay_exec(ContainerProcess& process, const ForwardedSignals& signals, ExecRelayOptions options);

}  // namespace mcore::engine
