#pragma once
// The container verbs' engine side: create, start, stop, kill, pause, remove, wait. Each takes the
// container's lock for its decisions, never while waiting for the container, and brings a record whose
// supervisor died up to date first (repair_container).
#include <optional>
#include <string>

#include "engine/start/container_launch.hpp"
#include "engine/container/container_spec.hpp"
#include "engine/container/container_store.hpp"
#include "engine/context/engine.hpp"
#include "engine/io/io_relay.hpp"

namespace mcore::engine {

// A request the container's state refuses ("container x is not running"): Docker's CLI exits 1.
class ContainerRefusal : public Error {
 public:
  using Error::Error;
};

// Writes the record of a new container (state created) and claims its name. Throws Error naming the
// holder when the name is taken.
ContainerRecord create_container(Engine& engine, const ContainerSpec& spec);

// Starts a created or exited container (launch_container); a running one is left alone and gives an
// empty report. Resets the restart count and any earlier stop request.
LaunchReport start_container(Engine& engine, const std::string& id, int attach_fd = -1);

// Sends the stop signal, waits `timeout_seconds` (the container's own --stop-timeout when unset), then
// SIGKILL, and returns once the exit is recorded. False when the container was not running.
bool stop_container(Engine& engine, const std::string& id, std::optional<int> timeout_seconds);

// Sends `signal` to the container's init. Refuses a container that is not running.
void kill_container(Engine& engine, const std::string& id, int signal);

// Freezes / thaws every process of the container through the resource driver.
void pause_container(Engine& engine, const std::string& id);
void unpause_container(Engine& engine, const std::string& id);

// Removes a container; a running one only with `force` (killed first).
// `volumes` (rm -v): its anonymous volumes go too.
void remove_container(Engine& engine, const std::string& id, bool force, bool volumes = false);

// Blocks until the container is not running and returns its exit code.
int wait_container(Engine& engine, const std::string& id);

// The exit code of an attached run once relay_attached returned: a handed-over exit is recorded here
// first (the container removed with --rm); when the supervisor said nothing, the record tells.
int finish_attached(Engine& engine, const std::string& id, AttachOutcome outcome);

}  // namespace mcore::engine
