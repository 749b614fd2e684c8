#include "engine/volume/volume_control.hpp"

#include "mcore/error.hpp"

namespace mcore::engine {

void create_container_volumes(Engine& engine, ContainerSpec& spec) {
  VolumeStore volumes(engine.config().data_root);
  for (auto& mount : spec.volumes) {
    if (!mount.host_path.empty()) continue;  // a bind mount of a host path
    const bool anonymous = mount.volume.empty();
    const VolumeRecord volume = volumes.create(mount.volume, anonymous);
    mount.volume = volume.name;
    mount.host_path = volume.mountpoint;
  }
}

std::map<std::string, std::vector<std::string>> volume_users(const ContainerStore& store) {
  std::map<std::string, std::vector<std::string>> users;
  const ContainerListing listing = store.list();
  // A record that cannot be read may name any volume: none can be said to be unused.
  if (!listing.unreadable.empty()) throw UnreadableRecordError(listing.unreadable.front());
  for (const auto& record : listing.records) {
    for (const auto& mount : record.spec.volumes) {
      if (!mount.volume.empty()) users[mount.volume].push_back(record.name);
    }
  }
  return users;
}

void remove_volume(Engine& engine, const std::string& name) {
  VolumeStore volumes(engine.config().data_root);
  FileLock held = volumes.lock(FileLock::Mode::exclusive);
  if (!volumes.find(name)) throw Error("no such volume: " + name, 0, "see `mcore volume ls`");
  const auto users = volume_users(ContainerStore(engine.config().data_root));
  if (auto found = users.find(name); found != users.end()) {
    std::string names;
    for (const auto& user : found->second) names += (names.empty() ? "" : ", ") + user;
    throw Error("volume " + name + " is in use by container(s) " + names, 0,
                "remove those containers first (mcore rm), then the volume");
  }
  volumes.remove(name);
}

std::vector<std::string> prune_volumes(Engine& engine, bool all) {
  VolumeStore volumes(engine.config().data_root);
  FileLock held = volumes.lock(FileLock::Mode::exclusive);
  const auto users = volume_users(ContainerStore(engine.config().data_root));
  std::vector<std::string> removed;
  for (const auto& volume : volumes.list()) {
    if (users.count(volume.name) || (!all && !volume.anonymous)) continue;
    volumes.remove(volume.name);
    removed.push_back(volume.name);
  }
  return removed;
}

void remove_anonymous_volumes(Engine& engine, const ContainerStore& store, const ContainerSpec& spec) {
  VolumeStore volumes(engine.config().data_root);
  std::vector<std::string> anonymous;
  for (const auto& mount : spec.volumes) {
    if (mount.volume.empty()) continue;
    if (auto volume = volumes.find(mount.volume); volume && volume->anonymous) anonymous.push_back(volume->name);
  }
  if (anonymous.empty()) return;
  FileLock held = volumes.lock(FileLock::Mode::exclusive);
  const auto users = volume_users(store);
  for (const auto& name : anonymous) {
    if (!users.count(name)) volumes.remove(name);
  }
}

}  // namespace mcore::engine
