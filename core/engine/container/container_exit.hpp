#pragma once
// After a container's command exits: the exit recorded, the cgroup removed, the restart policy
// applied, an --rm container deleted. The supervisor triggers this (it execs mcore-exit-handler, or
// hands the exit to a foreground `mcore run`); any command that finds a record claiming life without a
// supervisor does the same work (repair_container).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "engine/container/container_store.hpp"
#include "engine/context/engine.hpp"
#include "engine/io/exit_facts.hpp"

namespace mcore::engine {

// Whether the policy restarts a command that exited with `exit_code` after `restarts` restarts. A stop
// the user asked for (record.stop_requested) never restarts.
bool should_restart(const ContainerRecord& record, int exit_code);

// Docker's backoff: 100 ms doubling with each restart, at most a minute.
std::chrono::milliseconds restart_delay(int restart_count);

// What goes with a removed container besides its own files.
enum class AnonymousVolumes { keep, remove };  // rm -v and --rm remove them, as in Docker

// Whether the cgroup and the network attachment are still to be given back: `released` right after
// record_exit, which gave them back, so that an --rm exit does not ask the drivers twice.
enum class ExitResources { held, released };

// Deletes a container that no longer runs: network attachment and cgroup (unless `resources` says
// they went with the exit), writable layer, runtime directory, name and record, and its anonymous
// volumes when asked. Idempotent. The caller holds the container's lock.
void remove_container_files(Engine& engine, ContainerStore& store, const ContainerRecord& record,
                            AnonymousVolumes volumes = AnonymousVolumes::keep,
                            ExitResources resources = ExitResources::held);

// Runs in the supervisor's process (mcore-exit-handler, which the supervisor execs) or in the exit taker
// (launch's AttachedClient), either holding the liveness lock as `lock_fd`. Restarts the container
// through start_and_supervise when the policy says so (never in an exit taker: it has no policy).
void handle_container_exit(Engine& engine, const std::string& id, int lock_fd, const ExitFacts& facts);

// For commands that touch a container: a record claiming it runs while no supervisor lives is brought
// up to date (exit recorded, cgroup removed; an --rm container deleted, giving nullopt). Other records
// come back unchanged. The caller holds the container's lock.
std::optional<ContainerRecord> repair_container(Engine& engine, ContainerStore& store, ContainerRecord record);

}  // namespace mcore::engine
