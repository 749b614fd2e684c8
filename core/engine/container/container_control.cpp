#include "engine/container/container_control.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "engine/container/container_exit.hpp"
#include "engine/container/container_liveness.hpp"
#include "engine/container/container_prune.hpp"
#include "engine/io/supervisor_client.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;
namespace {

bool is_live(ContainerState state) {
  return state == ContainerState::running || state == ContainerState::paused || state == ContainerState::restarting;
}

// Loads the record under its lock and repairs it; nullopt when it is gone (an --rm container whose
// supervisor died). Throws a refusal for an unknown id.
std::optional<ContainerRecord> current(Engine& engine, ContainerStore& store, const std::string& id) {
  auto record = store.load(id);
  if (!record) throw ContainerRefusal("no such container: " + id.substr(0, 12), 0, "see `mcore ps -a`");
  auto repaired = repair_container(engine, store, std::move(*record));
  if (!repaired) return std::nullopt;
  return observe_container(engine.config(), std::move(*repaired));
}

void send_signal(int pidfd, int signal) { ::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0); }

// Waits for a supervisor that has no socket (between a restart's exit and its next start) to finish.
void wait_for_supervisor(Engine& engine, const std::string& id) {
  const auto paths = runtime_paths(engine.config(), id);
  while (supervisor_alive(paths)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

// Marks the exit as asked for (no restart) and returns the container's supervisor, if it listens. Works
// on a full disk: the record is read, never repaired, and its stop_requested written if it can be (for
// `boot`, which must not restart an unless-stopped container the user stopped); the supervisor is told
// in any case and hands it on to the exit handler.
std::optional<SupervisorClient> request_stop(Engine& engine, ContainerStore& store, const std::string& id,
                                             bool refuse_paused) {
  FileLock lock = store.lock(id);
  auto stored = store.load(id);
  if (!stored) throw ContainerRefusal("no such container: " + id.substr(0, 12), 0, "see `mcore ps -a`");
  const ContainerRecord record = observe_container(engine.config(), *stored);
  if (!is_live(record.state)) return std::nullopt;
  if (record.state == ContainerState::paused) {
    if (refuse_paused) {
      throw ContainerRefusal("container " + record.name + " is paused", 0,
                             "unpause it first: mcore unpause " + record.name);
    }
    engine.resource()->thaw(id);
  }
  stored->stop_requested = true;
  if (stored->state == ContainerState::paused) stored->state = ContainerState::running;
  try {
    store.save(*stored);
  } catch (const Error& error) {
    engine.logger()->warn("container {}: {} (the stop is still kept from restarting it)", id.substr(0, 12), error.what());
  }
  auto client = SupervisorClient::connect(runtime_paths(engine.config(), id));
  if (client) {
    client->mark_stop_requested();
  } else {
    // Its socket is closed: it is recording the exit, which needs the lock we hold.
    lock.release();
    wait_for_supervisor(engine, id);
  }
  return client;
}

}  // namespace

ContainerRecord create_container(Engine& engine, const ContainerSpec& spec) {
  ContainerRecord record;
  record.id = spec.id;
  record.name = spec.name;
  record.spec = spec;
  record.created = now_rfc3339();
  ContainerStore(engine.config().data_root).create(record);
  return record;
}

LaunchReport start_container(Engine& engine, const std::string& id, int attach_fd) {
  ContainerStore store(engine.config().data_root);
  {
    FileLock lock = store.lock(id);
    auto record = current(engine, store, id);
    if (!record) throw ContainerRefusal("container " + id.substr(0, 12) + " was removed when it exited");
    if (is_live(record->state)) return {};
    auto stored = store.load(id);
    stored->stop_requested = false;
    stored->restart_count = 0;
    store.save(*stored);
  }
  return launch_container(engine, id, {.fd = attach_fd});
}

bool stop_container(Engine& engine, const std::string& id, std::optional<int> timeout_seconds) {
  ContainerStore store(engine.config().data_root);
  auto spec = store.load(id);
  if (!spec) throw ContainerRefusal("no such container: " + id.substr(0, 12));
  auto client = request_stop(engine, store, id, true);
  if (!client) return false;
  UniqueFd pidfd;
  try {
    pidfd = client->init_pidfd();
  } catch (const Error&) {
    client->wait_closed();  // it exited on its own meanwhile
    return true;
  }
  send_signal(pidfd.get(), spec->spec.stop_signal);
  const int timeout = timeout_seconds.value_or(spec->spec.stop_timeout);
  if (!client->wait_closed(std::chrono::seconds(std::max(timeout, 0)))) {
    send_signal(pidfd.get(), SIGKILL);
    client->wait_closed();
  }
  return true;
}

void kill_container(Engine& engine, const std::string& id, int signal) {
  ContainerStore store(engine.config().data_root);
  UniqueFd pidfd;
  {
    FileLock lock = store.lock(id);
    auto record = current(engine, store, id);
    if (!record || record->state != ContainerState::running) {
      const std::string name = record ? record->name : id.substr(0, 12);
      throw ContainerRefusal("container " + name + " is not running", 0, "start it first: mcore start " + name);
    }
    // Docker: killing with the stop signal or SIGKILL counts as a stop the restart policy respects.
    if (signal == SIGKILL || signal == record->spec.stop_signal) {
      auto stored = store.load(id);
      stored->stop_requested = true;
      store.save(*stored);
    }
    pidfd = open_init_pidfd(engine.config(), *record);
  }
  send_signal(pidfd.get(), signal);
}

void pause_container(Engine& engine, const std::string& id) {
  ContainerStore store(engine.config().data_root);
  FileLock lock = store.lock(id);
  auto record = current(engine, store, id);
  if (!record || record->state != ContainerState::running) {
    const std::string name = record ? record->name : id.substr(0, 12);
    const bool paused = record && record->state == ContainerState::paused;
    throw ContainerRefusal("container " + name + (paused ? " is already paused" : " is not running"));
  }
  engine.resource()->freeze(id);
  auto stored = store.load(id);
  stored->state = ContainerState::paused;
  store.save(*stored);
}

void unpause_container(Engine& engine, const std::string& id) {
  ContainerStore store(engine.config().data_root);
  FileLock lock = store.lock(id);
  auto record = current(engine, store, id);
  if (!record || record->state != ContainerState::paused) {
    const std::string name = record ? record->name : id.substr(0, 12);
    throw ContainerRefusal("container " + name + " is not paused");
  }
  engine.resource()->thaw(id);
  auto stored = store.load(id);
  stored->state = ContainerState::running;
  store.save(*stored);
}

namespace {

void remove_readable_container(Engine& engine, ContainerStore& store, const std::string& id, bool force,
                               bool volumes) {
  for (;;) {
    {
      FileLock lock = store.lock(id);
      auto stored = store.load(id);
      if (!stored) return;
      // Read, never repaired: removal writes nothing before it deletes, so it works on a full disk.
      const ContainerRecord record = observe_container(engine.config(), std::move(*stored));
      if (!is_live(record.state)) {
        remove_container_files(engine, store, record, volumes ? AnonymousVolumes::remove : AnonymousVolumes::keep);
        return;
      }
      if (!force) {
        throw ContainerRefusal("cannot remove running container " + record.name, 0,
                               "stop it first, or use mcore rm -f");
      }
    }
    if (auto client = request_stop(engine, store, id, false)) {
      try {
        send_signal(client->init_pidfd().get(), SIGKILL);
      } catch (const Error&) {
        // Exited meanwhile.
      }
      client->wait_closed();
    }
  }
}

// A container whose record cannot be read, by what its id alone names: its supervisor (with `force`,
// killed through its init), cgroup, writable layer, runtime directory, name, and the network leases,
// links and rules of a container that no longer exists. Its volumes stay: nothing says which they are.
void remove_unreadable_container(Engine& engine, ContainerStore& store, const UnreadableRecord& record, bool force) {
  const auto paths = runtime_paths(engine.config(), record.id);
  if (supervisor_alive(paths)) {
    if (!force) {
      throw ContainerRefusal("cannot remove running container " + record.id.substr(0, 12) + " (its record " +
                                 record.file.string() + " cannot be read)",
                             0, "mcore rm -f " + record.id.substr(0, 12) + " stops it first");
    }
    if (auto client = SupervisorClient::connect(paths)) {
      try {
        send_signal(client->init_pidfd().get(), SIGKILL);
      } catch (const Error&) {
        // Exited meanwhile.
      }
      client->wait_closed();
    }
    wait_for_supervisor(engine, record.id);
  }
  FileLock lock = store.lock(record.id);
  try {
    engine.resource()->destroy(record.id);
  } catch (const Error& error) {
    engine.logger()->warn("container {}: {}", record.id.substr(0, 12), error.what());
  }
  try {
    engine.storage()->release_rootfs(record.id);
  } catch (const Error& error) {
    engine.logger()->warn("container {}: {}", record.id.substr(0, 12), error.what());
  }
  std::error_code error;
  fs::remove_all(paths.dir, error);
  const std::string name = store.name_of(record.id);
  store.remove(record.id);
  store.release_name(name, record.id);
  lock.release();
  prune_network_leftovers(engine, store);
}

}  // namespace

void remove_container(Engine& engine, const std::string& id, bool force, bool volumes) {
  ContainerStore store(engine.config().data_root);
  try {
    remove_readable_container(engine, store, id, force, volumes);
  } catch (const UnreadableRecordError& unreadable) {
    remove_unreadable_container(engine, store, unreadable.record(), force);
  }
}

int wait_container(Engine& engine, const std::string& id) {
  ContainerStore store(engine.config().data_root);
  std::optional<int> reported;
  if (auto client = SupervisorClient::connect(runtime_paths(engine.config(), id))) {
    reported = client->wait_exit_code();
  } else {
    wait_for_supervisor(engine, id);  // between a restart policy's exit and its next start
  }
  FileLock lock = store.lock(id);
  auto record = store.load(id);
  if (!record) {
    if (reported) return *reported;  // --rm: removed on exit
    throw ContainerRefusal("no such container: " + id.substr(0, 12));
  }
  auto repaired = repair_container(engine, store, std::move(*record));
  return repaired ? repaired->exit_code : reported.value_or(255);
}

int finish_attached(Engine& engine, const std::string& id, AttachOutcome outcome) {
  if (outcome.handover) {
    HandedOverExit& handover = *outcome.handover;
    try {
      handle_container_exit(engine, id, handover.liveness_lock.get(), handover.facts);
    } catch (const Error& error) {
      // The command's own code still stands; the next command on the container finishes the record.
      engine.logger()->warn("container {}: recording its exit failed: {}", id.substr(0, 12), error.what());
    }
    return handover.facts.exit_code;
  }
  if (outcome.exit_code) return *outcome.exit_code;
  // The supervisor died before it could tell: what the record says now is the truth.
  return wait_container(engine, id);
}

}  // namespace mcore::engine
