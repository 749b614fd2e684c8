#include "engine/container/container_exit.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "engine/start/container_launch.hpp"
#include "engine/container/container_liveness.hpp"
#include "engine/start/container_network.hpp"
#include "engine/volume/volume_control.hpp"
#include "engine/io/descriptors.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

namespace {

// Docker's code for a container whose exit nobody saw.
constexpr int kExitCodeLost = 255;

void warn(Engine& engine, const std::string& id, const Error& error) {
  engine.logger()->warn("container {}: {}", id.substr(0, 12), error.what());
}

// Records the last run's exit — as the supervisor told it, else from its exit file — leaves the network
// and removes the cgroup (reading the OOM count first). `held` when the cgroup could not be removed.
ExitResources record_exit(Engine& engine, const ContainerStore& store, ContainerRecord& record,
                          const std::optional<ExitFacts>& facts = std::nullopt) {
  if (facts) {
    record.exit_code = facts->exit_code;
    record.finished_at = facts->finished_at;
    record.log_write_failures += facts->log_failures;
    record.stop_requested = record.stop_requested || facts->stop_requested;
  } else {
    auto exit = read_exit_report(runtime_paths(engine.config(), record.id));
    record.exit_code = exit ? exit->exit_code : kExitCodeLost;
    record.finished_at = exit ? exit->finished_at : now_rfc3339();
  }
  record.state = ContainerState::exited;
  record.pid = 0;
  ExitResources resources = ExitResources::released;
  try {
    auto resource = engine.resource();
    try {
      record.oom_killed = resource->stats(record.id).oom_kills > 0;
    } catch (const Error&) {
      // No group left to ask: nothing more to learn.
    }
    resource->destroy(record.id);
  } catch (const Error& error) {
    warn(engine, record.id, error);
    resources = ExitResources::held;
  }
  // The init has exited, so its network namespace is gone (or going, as its last process dies).
  detach_container_network(engine, store, record, NetworkNamespace::gone);
  if (record.oom_killed) engine.logger()->info("container {} was killed by the OOM killer", record.id.substr(0, 12));
  return resources;
}

}  // namespace

bool should_restart(const ContainerRecord& record, int exit_code) {
  if (record.stop_requested) return false;
  const RestartPolicy& policy = record.spec.restart;
  switch (policy.kind) {
    case RestartPolicy::Kind::no: return false;
    case RestartPolicy::Kind::always:
    case RestartPolicy::Kind::unless_stopped: return true;
    case RestartPolicy::Kind::on_failure:
      return exit_code != 0 && (policy.max_retries == 0 || record.restart_count < policy.max_retries);
  }
  return false;
}

std::chrono::milliseconds restart_delay(int restart_count) {
  const int doublings = std::clamp(restart_count, 0, 10);
  return std::min(std::chrono::milliseconds(100) * (1 << doublings), std::chrono::milliseconds(60'000));
}

void remove_container_files(Engine& engine, ContainerStore& store, const ContainerRecord& record,
                            AnonymousVolumes volumes, ExitResources resources) {
  if (resources == ExitResources::held) {
    ContainerRecord leaving = record;
    detach_container_network(engine, store, leaving);
    try {
      engine.resource()->destroy(record.id);
    } catch (const Error& error) {
      warn(engine, record.id, error);
    }
  }
  try {
    engine.storage()->release_rootfs(record.id);
  } catch (const Error& error) {
    warn(engine, record.id, error);
  }
  std::error_code error;
  fs::remove_all(runtime_paths(engine.config(), record.id).dir, error);
  // The record first: a crash between the two leaves a name without a record, which the next
  // reservation takes over, never a record whose name another container can take.
  store.remove(record.id);
  store.release_name(record.name, record.id);
  if (volumes == AnonymousVolumes::remove) {
    try {
      remove_anonymous_volumes(engine, store, record.spec);
    } catch (const Error& error) {
      warn(engine, record.id, error);
    }
  }
}

void handle_container_exit(Engine& engine, const std::string& id, int lock_fd, const ExitFacts& facts) {
  ContainerStore store(engine.config().data_root);
  std::chrono::milliseconds delay{0};
  {
    FileLock lock = store.lock(id);
    auto record = store.load(id);
    if (!record) return;
    const ExitResources resources = record_exit(engine, store, *record, facts);
    if (!should_restart(*record, record->exit_code)) {
      if (record->spec.remove_on_exit) {
        remove_container_files(engine, store, *record, AnonymousVolumes::remove, resources);
      } else {
        store.save(*record);
      }
      return;
    }
    delay = restart_delay(record->restart_count);
    record->state = ContainerState::restarting;
    record->restart_count += 1;
    store.save(*record);
  }
  // Attached clients (a foreground run) end with this first exit, as Docker's CLI does.
  close_descriptors_except({lock_fd});
  std::this_thread::sleep_for(delay);
  {
    // `mcore stop` during the delay asked for no more restarts.
    FileLock lock = store.lock(id);
    auto record = store.load(id);
    if (!record) return;
    if (record->stop_requested) {
      record->state = ContainerState::exited;
      store.save(*record);
      return;
    }
  }
  start_and_supervise(engine, id, -1, {}, lock_fd);
}

std::optional<ContainerRecord> repair_container(Engine& engine, ContainerStore& store, ContainerRecord record) {
  const bool claims_life = record.state == ContainerState::running || record.state == ContainerState::paused ||
                           record.state == ContainerState::restarting;
  if (!claims_life || supervisor_alive(runtime_paths(engine.config(), record.id))) return record;
  const ExitResources resources = record_exit(engine, store, record);
  if (record.spec.remove_on_exit) {
    remove_container_files(engine, store, record, AnonymousVolumes::remove, resources);
    return std::nullopt;
  }
  store.save(record);
  return record;
}

}  // namespace mcore::engine
