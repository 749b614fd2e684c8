#pragma once
// The foreground side of a running container: forwards signals sent to mcore to the container, passes
// window-size changes and terminal I/O to its supervisor, and returns when the supervisor is done.
#include <signal.h>
#include <termios.h>

#include <optional>
#include <vector>

#include "engine/io/exit_facts.hpp"
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

struct AttachOptions {
  bool forward_stdin = false;  // -i: copy stdin to the container
  bool tty = false;            // -t: the container has a terminal; pass window-size changes
  int init_pidfd = -1;         // where forwarded signals go (-1: not forwarded)
};

// An exit the supervisor handed to its exit taker (supervisor_protocol.hpp, exit_handover): the taker
// records it with handle_container_exit, holding the lock, then lets the lock and the clients go.
struct HandedOverExit {
  ExitFacts facts;
  UniqueFd liveness_lock;
  std::vector<UniqueFd> other_clients;  // closed once the exit is recorded: they wait for that
};

struct AttachOutcome {
  std::optional<int> exit_code;           // as the supervisor reported it; nullopt when it sent none
  std::optional<HandedOverExit> handover;  // the exit, when this client is the exit taker
};

// A foreground client of a container's supervisor: prints the output frames on stdout and stderr,
// sends stdin and window sizes, forwards signals to the init. Returns when the supervisor closes the
// connection (the exit is recorded) or hands the exit over.
AttachOutcome relay_attached(int supervisor_socket, const ForwardedSignals& signals, const AttachOptions& options);

}  // namespace mcore::engine
