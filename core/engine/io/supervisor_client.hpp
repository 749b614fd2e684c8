#pragma once
// A command's connection to a container's supervisor (supervisor_protocol.hpp).
#include <chrono>
#include <cstdint>
#include <optional>

#include "engine/container/container_liveness.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {

class SupervisorClient {
 public:
  // Connects to the container's supervisor; nullopt when none listens (the container is not running).
  static std::optional<SupervisorClient> connect(const ContainerRuntimePaths& paths);
  explicit SupervisorClient(UniqueFd socket) : socket_(std::move(socket)) {}

  // The container init's pidfd: signal it with pidfd_send_signal, join its namespaces with setns.
  // Throws Error when the supervisor does not answer (the container exited meanwhile).
  UniqueFd init_pidfd();

  // Tells the supervisor that the coming exit was asked for: it hands that on to the exit handler, which
  // then restarts nothing even when the record could not be written. False when it is gone.
  bool mark_stop_requested();

  // How many log entries the supervisor could not write so far; nullopt when it does not answer.
  std::optional<std::uint64_t> log_failures();

  // Blocks until the supervisor closes the connection, which it does when its container's exit has
  // been recorded (or the restart policy started it again). Returns false on timeout.
  bool wait_closed(std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // Attaches, then blocks until the supervisor closes the connection; returns the exit code it
  // reported on the way (nullopt when the connection ended without one).
  std::optional<int> wait_exit_code();

  int fd() const { return socket_.get(); }

 private:
  UniqueFd socket_;
};

// The running container's init pidfd, asked from its supervisor. Throws Error "container X is not
// running" when there is no supervisor.
UniqueFd open_init_pidfd(const Config& config, const ContainerRecord& record);

}  // namespace mcore::engine
