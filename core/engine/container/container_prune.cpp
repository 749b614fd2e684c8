#include "engine/container/container_prune.hpp"

#include <filesystem>
#include <set>

#include "engine/container/container_exit.hpp"
#include "engine/container/container_liveness.hpp"
#include "engine/container/container_spec_json.hpp"
#include "engine/container/container_store.hpp"
#include "engine/container/interrupted_work.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

namespace {

bool is_stopped(ContainerState state) {
  return state == ContainerState::exited || state == ContainerState::created || state == ContainerState::dead;
}

// Entries of `dir` whose names are not container ids in `known`.
std::vector<fs::path> orphans_in(const fs::path& dir, const std::set<std::string>& known) {
  std::vector<fs::path> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (!known.count(entry.path().filename().string())) found.push_back(entry.path());
  }
  return found;
}

}  // namespace

void prune_network_leftovers(Engine& engine, const ContainerStore& store) {
  // Every container that has a record keeps what it holds (a stopped one was detached when it
  // stopped); leases, links and rules of containers without one are what crashes left.
  FileLock no_creations = store.block_creations();
  try {
    engine.network()->prune(store.list().ids());
  } catch (const Error& error) {
    engine.logger()->warn("network leftovers: {}", error.what());
  }
}

std::vector<std::string> sweep_leftovers(Engine& engine, const std::set<std::string>& kept) {
  std::vector<std::string> swept;
  ContainerStore store(engine.config().data_root);
  // A crash between creating a resource and writing the record that names it leaves an orphan. A start
  // in progress holds the container's lock until its record is saved: wait for it, then look again.
  auto orphaned = [&](const std::string& id) {
    if (kept.count(id)) return false;
    FileLock lock = store.lock(id);
    try {
      auto record = store.load(id);
      return !record || is_stopped(record->state);
    } catch (const UnreadableRecordError&) {
      return false;
    }
  };
  auto resource = engine.resource();
  for (const auto& id : resource->list()) {
    if (!orphaned(id)) continue;
    resource->destroy(id);
    swept.push_back("cgroup of " + id.substr(0, 12));
  }
  auto storage = engine.storage();
  for (const auto& id : storage->list_rootfs()) {
    if (!orphaned(id) || fs::exists(store.container_dir(id) / "container.json")) continue;
    storage->release_rootfs(id);
    swept.push_back("writable layer of " + id.substr(0, 12));
  }
  std::error_code error;
  for (const auto& dir : orphans_in(engine.config().state_root / "containers", kept)) {
    if (supervisor_alive(runtime_paths(engine.config(), dir.filename().string()))) continue;
    fs::remove_all(dir, error);
    swept.push_back("runtime directory of " + dir.filename().string().substr(0, 12));
  }
  for (auto& what : reclaim_interrupted_work(engine).removed) swept.push_back(std::move(what));
  prune_network_leftovers(engine, store);
  return swept;
}

PruneReport prune_containers(Engine& engine) {
  PruneReport report;
  ContainerStore store(engine.config().data_root);
  std::set<std::string> kept;
  const ContainerListing listing = store.list();
  // A record that cannot be read keeps its container and all it holds; prune goes on past it.
  for (const auto& unreadable : listing.unreadable) {
    kept.insert(unreadable.id);
    report.kept.push_back(UnreadableRecordError(unreadable).what());
  }
  for (const auto& listed : listing.records) {
    FileLock lock = store.lock(listed.id);
    std::optional<ContainerRecord> record;
    try {
      record = store.load(listed.id);
    } catch (const UnreadableRecordError& unreadable) {
      kept.insert(listed.id);
      report.kept.push_back(unreadable.what());
      continue;
    }
    if (!record) continue;
    // Read, never repaired: prune writes nothing before it deletes, so it works on a full disk.
    const ContainerRecord observed = observe_container(engine.config(), *record);
    if (!is_stopped(observed.state)) {
      kept.insert(listed.id);
      continue;
    }
    // Lost, not stopped: its supervisor died (a crash, a reboot) while it ran. Its restart policy
    // still holds: `mcore boot` (or the next start) brings it back, so it is no "dead" container.
    if (!is_stopped(record->state) && should_restart(*record, observed.exit_code)) {
      kept.insert(listed.id);
      report.kept.push_back("container " + (record->name.empty() ? listed.id.substr(0, 12) : record->name) +
                            ": it was lost while running and its restart policy (" +
                            to_string(record->spec.restart) + ") brings it back at `mcore boot`");
      continue;
    }
    remove_container_files(engine, store, observed);
    report.removed_containers.push_back(listed.id);
  }

  for (auto& line : sweep_leftovers(engine, kept)) report.stale.push_back(std::move(line));
  return report;
}

}  // namespace mcore::engine
