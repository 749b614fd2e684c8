#pragma once
// The foreground side of a running container: forwards signals sent to mcore to the container, passes
// window-size changes and terminal I/O through the PTY, and returns when the container's init exits.
#include <signal.h>
#include <termios.h>

#include <optional>

#include "engine/container_process.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {

// Blocks the signals mcore forwards (and SIGCHLD) from construction on, so that none is lost between
// the clone and the relay loop; restores the old mask on destruction. The container init unblocks
// them for itself before exec.
class ForwardedSignals {
 public:
  ForwardedSignals();
  ~ForwardedSignals();
  ForwardedSignals(const ForwardedSignals&) = delete;
  ForwardedSignals& operator=(const ForwardedSignals&) = delete;
  const sigset_t& set() const { return set_; }

 private:
  sigset_t set_;
  sigset_t old_;
};

// Puts a terminal in raw mode for as long as it lives (no-op when `fd` is not a terminal).
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_;
  bool active_ = false;
  termios saved_{};
};

// Copies mcore's terminal size (from stdin, else stdout) to the PTY master.
void copy_window_size(int pty_master);

struct RelayOptions {
  int pty_master = -1;         // -1 without -t
  bool forward_stdin = false;  // -i with -t: copy stdin into the PTY
};

// Runs until the container's init exits; returns its exit code Docker-style.
int relay_until_exit(ContainerProcess& process, const ForwardedSignals& signals, const RelayOptions& options);

}  // namespace mcore::engine
