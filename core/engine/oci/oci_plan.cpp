#include "engine/oci/oci_plan.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "engine/container/container_spec.hpp"
#include "engine/security/seccomp_profile.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

namespace fs = std::filesystem;
namespace {

int clone_flag(OciNamespace type) {
  switch (type) {
    case OciNamespace::pid: return CLONE_NEWPID;
    case OciNamespace::network: return CLONE_NEWNET;
    case OciNamespace::mount: return CLONE_NEWNS;
    case OciNamespace::ipc: return CLONE_NEWIPC;
    case OciNamespace::uts: return CLONE_NEWUTS;
    case OciNamespace::user: return CLONE_NEWUSER;
    case OciNamespace::cgroup: return CLONE_NEWCGROUP;
  }
  return 0;
}

const char* type_name(int flag) {
  switch (flag) {
    case CLONE_NEWPID: return "pid";
    case CLONE_NEWNET: return "network";
    case CLONE_NEWNS: return "mount";
    case CLONE_NEWIPC: return "ipc";
    case CLONE_NEWUTS: return "uts";
    case CLONE_NEWUSER: return "user";
    case CLONE_NEWCGROUP: return "cgroup";
    case CLONE_NEWTIME: return "time";
  }
  return "unknown";
}

// Opens a namespace file and checks that it is a namespace of `flag`'s type: joining a network
// namespace where a PID namespace was meant would quietly share the wrong thing.
UniqueFd open_namespace(const std::string& path, int flag, const std::string& field) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw Error::from_errno("config.json: " + field + ": open " + path);
  const int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type < 0) {
    throw Error("config.json: " + field + ": " + path + " is not a namespace file", 0,
                "give a /proc/PID/ns/* file or a bind mount of one");
  }
  if (type != flag) {
    throw Error(std::string("config.json: ") + field + ": " + path + " is a " + type_name(type) +
                    " namespace, not a " + type_name(flag) + " namespace",
                0, "give a namespace of the entry's type");
  }
  return fd;
}

// "/a/b" -> "a/b": steps address paths relative to the root.
const char* in_root(InitPlan& plan, const std::string& path) {
  const auto start = path.find_first_not_of('/');
  return plan.keep(start == std::string::npos ? std::string() : path.substr(start));
}

void add_mounts(const RuntimeSpec& spec, const std::vector<CgroupHierarchy>& hierarchies, InitPlan& plan) {
  constexpr unsigned long kBindOnly = MS_BIND | MS_REC;
  const bool own_user_namespace = !spec.uid_map.empty();
  for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
    const OciMount& mount = spec.mounts[i];
    const char* target = in_root(plan, mount.destination);
    if (*target == '\0') {
      throw Error("config.json: mounts[" + std::to_string(i) + "].destination: cannot mount over the root", 0,
                  "the root is root.path");
    }
    if (mount.type == "bind") {
      plan.steps.push_back({.kind = InitStepKind::bind_in_root,
                            .source = plan.keep(mount.source),
                            .target = target,
                            .flags = mount.flags,
                            .propagation = mount.propagation,
                            .idmap = mount.idmap});
    } else if (mount.type == "cgroup" || mount.type == "cgroup2") {
      // The container's own groups, as mcore run shows them: each hierarchy rooted at the container's
      // group, in a cgroup namespace of its own.
      if (mount.destination != "/sys/fs/cgroup") {
        throw Error("config.json: mounts[" + std::to_string(i) + "]: a cgroup mount must be on /sys/fs/cgroup");
      }
      plan.new_cgroup_namespace = true;
      plan.cgroup_mounts_writable = (mount.flags & MS_RDONLY) == 0;
      add_cgroup_mounts(plan, hierarchies, own_user_namespace);
    } else {
      plan.steps.push_back({.kind = InitStepKind::mount_in_root,
                            .source = plan.keep(mount.source.empty() ? mount.type : mount.source),
                            .target = target,
                            .fstype = plan.keep(mount.type),
                            .flags = mount.flags & ~kBindOnly,
                            .data = mount.data.empty() ? nullptr : plan.keep(mount.data),
                            .propagation = mount.propagation,
                            .copy_up = mount.copy_up});
    }
    if (mount.destination == "/dev") {
      add_default_devices(plan, own_user_namespace ? DeviceNodes::bind_host : DeviceNodes::create);
    }
  }
}

// linux.devices: made with mknod, or in a user namespace (where mknod is not allowed) bound from the
// host's node at the same path, as runc does; that node must be the device asked for.
void add_devices(const RuntimeSpec& spec, InitPlan& plan) {
  const bool own_user_namespace = !spec.uid_map.empty();
  for (std::size_t i = 0; i < spec.devices.size(); ++i) {
    const OciDevice& device = spec.devices[i];
    const std::string parent = fs::path(device.path).parent_path().string();
    if (parent != "/")
      plan.steps.push_back({.kind = InitStepKind::mkdir_in_root, .target = in_root(plan, parent)});
    if (!own_user_namespace) {
      plan.steps.push_back({.kind = InitStepKind::mknod_in_root,
                            .target = in_root(plan, device.path),
                            .mode = device.type | device.mode,
                            .device = device.device,
                            .owner_uid = device.uid,
                            .owner_gid = device.gid});
      continue;
    }
    struct stat host {};
    if (::stat(device.path.c_str(), &host) != 0 || (host.st_mode & S_IFMT) != device.type ||
        host.st_rdev != device.device) {
      throw Error("config.json: linux.devices[" + std::to_string(i) +
                      "]: in a user namespace the device is bound "
                      "from the host's " +
                      device.path + ", which is not that device",
                  0, "give the host's path of the device, or run without a user namespace");
    }
    plan.steps.push_back({.kind = InitStepKind::bind_in_root,
                          .source = plan.keep(device.path),
                          .target = in_root(plan, device.path),
                          .flags = MS_BIND});
  }
}

// A new user namespace's root cannot reach into namespaces the host's user namespace owns.
void check_user_namespace(const RuntimeSpec& spec) {
  if (spec.uid_map.empty()) return;
  for (std::size_t i = 0; i < spec.namespaces.size(); ++i) {
    if (!spec.namespaces[i].path.empty()) {
      throw Error("config.json: linux.namespaces[" + std::to_string(i) +
                      "].path: joining a namespace by path "
                      "together with a new user namespace is not supported yet",
                  0, "let the container have that namespace of its own, or drop the user namespace");
    }
  }
}

}  // namespace

void build_oci_process_plan(const OciProcess& process, const std::optional<nlohmann::json>& seccomp, InitPlan& plan) {
  // The process part is mcore run's: the same command lookup, HOME from passwd, capabilities.
  ContainerSpec as_run;
  as_run.args = process.args;
  as_run.env = process.env;
  as_run.working_dir = process.cwd;
  as_run.user = std::to_string(process.uid);
  as_run.group = std::to_string(process.gid);
  as_run.capabilities = process.capabilities;
  as_run.no_new_privileges = process.no_new_privileges;
  as_run.interactive = true;  // stdin is the caller's, as given
  as_run.tty = process.terminal;
  build_process_plan(as_run, plan);
  plan.explicit_groups = true;
  plan.additional_gids = process.additional_gids;
  plan.umask = process.umask.value_or(022);
  plan.bounding = process.bounding;
  for (const auto& limit : process.rlimits) plan.rlimits.push_back({limit.resource, limit.soft, limit.hard});
  if (seccomp) {
    try {
      plan.seccomp = compile_seccomp_profile(*seccomp, process.capabilities);
    } catch (Error& error) {
      error.add_context("config.json: linux.seccomp");
      throw;
    }
  }
}

void build_oci_plan(const RuntimeSpec& spec, const std::vector<CgroupHierarchy>& hierarchies, OciLaunchPlan& plan) {
  InitPlan& init = plan.init;
  init.root_propagation = spec.rootfs_propagation;
  for (std::size_t i = 0; i < spec.namespaces.size(); ++i) {
    const OciNamespaceEntry& entry = spec.namespaces[i];
    const int flag = clone_flag(entry.type);
    if (entry.path.empty()) {
      // The cgroup namespace is unshared after the barrier, so that its root is the container's group.
      if (entry.type == OciNamespace::cgroup) {
        init.new_cgroup_namespace = true;
      } else {
        plan.clone_flags |= static_cast<unsigned long>(flag);
      }
      continue;
    }
    UniqueFd fd = open_namespace(entry.path, flag, "linux.namespaces[" + std::to_string(i) + "].path");
    if (entry.type == OciNamespace::pid) {
      plan.pid_namespace = std::move(fd);
      continue;
    }
    init.join_namespaces.push_back({fd.get(), flag});
    plan.joined.push_back(std::move(fd));
  }

  check_user_namespace(spec);
  // pivot_root needs the root to be a mount point: bind it onto itself, as runc does. In a user
  // namespace of its own the parent sends that bind (give_oci_user_namespace) and the init attaches it.
  const std::string root = spec.root.string();
  if (spec.uid_map.empty()) {
    init.steps.push_back({.kind = InitStepKind::mount_host,
                          .source = init.keep(root),
                          .target = init.keep(root),
                          .flags = MS_BIND | MS_REC});
  } else {
    init.steps.push_back({.kind = InitStepKind::attach_root, .target = init.keep(root)});
  }
  init.rootfs = init.keep(root);
  add_mounts(spec, hierarchies, init);
  add_devices(spec, init);
  // Through the container's own /proc, before its /proc/sys is made read-only.
  for (const auto& [key, value] : spec.sysctl) {
    std::string file = "proc/sys/" + key;
    std::replace(file.begin() + 9, file.end(), '.', '/');
    init.steps.push_back({.kind = InitStepKind::sysctl_in_root, .target = init.keep(file), .data = init.keep(value)});
  }
  for (const auto& path : spec.masked_paths) init.steps.push_back({.kind = InitStepKind::mask_in_root, .target = in_root(init, path)});
  for (const auto& path : spec.readonly_paths) {
    init.steps.push_back({.kind = InitStepKind::readonly_in_root, .target = in_root(init, path)});
  }
  init.steps.push_back({.kind = InitStepKind::mkdir_in_root, .target = in_root(init, spec.process.cwd)});
  if (spec.root_readonly) init.steps.push_back({.kind = InitStepKind::remount_root_ro});

  init.hostname = spec.hostname.empty() ? nullptr : init.keep(spec.hostname);
  init.domainname = spec.domainname.empty() ? nullptr : init.keep(spec.domainname);
  build_oci_process_plan(spec.process, spec.seccomp, init);
  // A network namespace of its own has its loopback up, as runc does.
  init.loopback_up = (plan.clone_flags & CLONE_NEWNET) != 0;
  init.die_with_parent = false;
  if (!spec.uid_map.empty()) send_bind_sources(init);
}

}  // namespace mcore::engine
