#pragma once
// The foreground side of a command `mcore exec` started: mcore is its parent, so it waits on the
// process's pidfd, forwards the signals mcore gets to it, and with -t copies the terminal both ways
// and passes window-size changes on to the PTY.
#include "engine/container_process.hpp"
#include "engine/io_relay.hpp"

namespace mcore::engine {

// Copies mcore's terminal size (from stdin, else stdout) to the PTY master.
void copy_window_size(int pty_master);

struct ExecRelayOptions {
  int pty_master = -1;         // -1 without -t: the command writes to mcore's own stdout and stderr
  bool forward_stdin = false;  // -i with -t: copy stdin into the PTY
};

// Runs until the process exits; returns its exit code Docker-style (the code, or 128+signal).
int relay_exec(ContainerProcess& process, const ForwardedSignals& signals, const ExecRelayOptions& options);

}  // namespace mcore::engine
