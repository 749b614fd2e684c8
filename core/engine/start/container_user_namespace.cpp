#include "engine/start/container_user_namespace.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "engine/start/detached_tree.hpp"
#include "engine/start/idmapped_overlay.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

// The kernel takes a map in exactly one write(2) (user_namespaces(7)).
void write_id_map(pid_t pid, const char* file, const IdMap& map) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  const std::string text = proc_id_map_text(map);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    throw Error::from_errno("write the container's " + std::string(file),
                            "check the uid and gid maps: every host id must exist");
  }
}

// Writes the maps, then sends make_root(the namespace, or -1 for an identity map) and the plan's bind
// sources.
bool give(ContainerProcess& init, const IdMap& uid_map, const IdMap& gid_map,
          const std::function<UniqueFd(int userns_fd)>& make_root, const InitPlan& plan) {
  // The child is ours and not reaped: its PID cannot name another process.
  write_id_map(init.pid(), "uid_map", uid_map);
  write_id_map(init.pid(), "gid_map", gid_map);
  // A namespace that shows every id as itself (rootless mcore's containers) needs no idmapped mount,
  // and could not have one: an unprivileged user may not idmap the host's file systems.
  UniqueFd userns;
  if (!is_identity(uid_map) || !is_identity(gid_map)) {
    const std::string userns_path = "/proc/" + std::to_string(init.pid()) + "/ns/user";
    userns.reset(::open(userns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!userns) throw Error::from_errno("open the container's user namespace");
  }
  if (!init.send_mount(make_root(userns.get()).get())) return false;
  for (const InitStep& step : plan.steps) {
    if (!step.source_sent) continue;
    const bool recursive = (bind_flags(step) & MS_REC) != 0;
    const UniqueFd source = step.idmap && userns ? idmapped_tree(step.source, userns.get(), recursive,
                                                                 std::string("volume ") + step.source)
                                                 : clone_tree(step.source, recursive);
    if (!init.send_mount(source.get())) return false;
  }
  return true;
}

}  // namespace

void give_upper_to_container_root(const RootfsPlan& rootfs, const ContainerSpec& spec) {
  const auto uid = host_id_of(spec.uid_map, 0);
  const auto gid = host_id_of(spec.gid_map, 0);
  if (!uid || !gid) throw Error("the container's id maps do not map its root (id 0)");
  if (rootfs.mounts.empty() || rootfs.mounts.back().fstype != "overlay") {
    throw Error("a user namespace of the container's own needs an overlay root", 0,
                "use the storage-overlay driver, or run without --uidmap");
  }
  if (::lchown(rootfs.upper_dir.c_str(), *uid, *gid) != 0) {
    throw Error::from_errno("give " + rootfs.upper_dir.string() + " to the container's root");
  }
}

bool give_user_namespace(ContainerProcess& init, const ContainerSpec& spec, const MountSpec& root_mount,
                         const InitPlan& plan) {
  return give(
      init, spec.uid_map, spec.gid_map,
      [&](int userns_fd) { return detached_idmapped_overlay(root_mount, userns_fd); }, plan);
}

bool give_user_namespace(ContainerProcess& init, const IdMap& uid_map, const IdMap& gid_map,
                         const std::filesystem::path& root, const InitPlan& plan) {
  return give(
      init, uid_map, gid_map, [&](int) { return clone_tree(root.string(), true); }, plan);
}

}  // namespace mcore::engine
