#include "engine/start/container_user_namespace.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "engine/start/idmapped_mount.hpp"
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
                            "check the --uidmap/--gidmap lines: every host id must exist");
  }
}

// A detached copy of the mount at `path`, as the host sees it.
UniqueFd clone_tree(const char* path, bool recursive) {
  const unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  UniqueFd clone(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, path, flags)));
  if (!clone) throw Error::from_errno(std::string("open ") + path + " to bind it into the container");
  return clone;
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
  // The child is ours and not reaped: its PID cannot name another process.
  write_id_map(init.pid(), "uid_map", spec.uid_map);
  write_id_map(init.pid(), "gid_map", spec.gid_map);
  const std::string userns_path = "/proc/" + std::to_string(init.pid()) + "/ns/user";
  UniqueFd userns(::open(userns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!userns) throw Error::from_errno("open the container's user namespace");
  UniqueFd root = detached_idmapped_overlay(root_mount, userns.get());
  if (!init.send_mount(root.get())) return false;
  for (const InitStep& step : plan.steps) {
    if (!step.source_sent) continue;
    const bool recursive = (bind_flags(step) & MS_REC) != 0;
    const UniqueFd source =
        step.idmap ? idmapped_tree(step.source, userns.get(), recursive, std::string("volume ") + step.source)
                   : clone_tree(step.source, recursive);
    if (!init.send_mount(source.get())) return false;
  }
  return true;
}

}  // namespace mcore::engine
