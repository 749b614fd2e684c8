#pragma once
// Frames on a container supervisor's socket (<state_root>/containers/<id>/supervisor.sock, and the
// socket pair a foreground `mcore run` is handed). SOCK_SEQPACKET keeps frame boundaries, so a frame is
// one kind byte followed by its payload, and never more than kMaxFrame bytes.
#include <cstddef>
#include <cstdint>

namespace mcore::engine {

inline constexpr std::size_t kMaxFrame = 32 * 1024;

enum class FrameKind : char {
  // client -> supervisor
  attach = 'a',       // send me the container's output (stdout/stderr frames) and the exit frame
  stdin_data = 'i',   // payload: bytes for the container's stdin (-i) or its terminal (-t)
  stdin_close = 'c',  // end of the client's stdin: the container's stdin pipe is closed (not with -t)
  resize = 'w',       // payload: WindowSize
  want_pidfd = 'p',   // answered with a pidfd frame carrying the init's pidfd (SCM_RIGHTS)
  stop_requested = 's',  // the coming exit was asked for (stop, kill, rm -f): no restart, even when the
                         // record could not say so (a full disk)
  want_log_failures = 'f',  // answered with a log_failures frame
  // (no frame: the client a foreground `mcore run` hands the supervisor at its start may be named the
  // exit taker with --exit-taker; see exit_handover)
  // supervisor -> client
  stdout_data = 'o',  // payload: output bytes (all output with -t)
  stderr_data = 'e',
  exited = 'x',       // payload: std::int32_t exit code, Docker-style (128+signal when killed)
  pidfd = 'P',        // no payload; the descriptor rides along
  log_failures = 'F',  // payload: std::uint64_t, the log entries that could not be written so far
  exit_handover = 'H',  // to the exit taker, after `exited`: payload ExitHandover; the descriptors riding
                        // along are the liveness lock, then every other client still connected. The
                        // taker records the exit in its own process (handle_container_exit) instead
                        // of the supervisor exec'ing the exit handler, and closes the clients after.
};

struct ExitHandover {
  std::int32_t exit_code;
  std::uint64_t log_failures;
  std::uint8_t stop_requested;
  char finished_at[48];  // RFC 3339, NUL-terminated
};

struct WindowSize {
  std::uint16_t rows;
  std::uint16_t columns;
};

}  // namespace mcore::engine
