#include "engine/init/init_plan.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <set>

#include "mcore/user_namespace.hpp"

namespace mcore::engine {

const char* InitPlan::keep(std::string text) { return strings_.emplace_back(std::move(text)).c_str(); }

namespace {

constexpr unsigned long kNoSuidDevExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;

// Docker's masked and read-only paths (moby oci/defaults.go).
constexpr std::array kMaskedPaths = {
    "proc/asound",       "proc/acpi",        "proc/kcore",       "proc/keys",
    "proc/latency_stats", "proc/timer_list", "proc/timer_stats", "proc/sched_debug",
    "proc/scsi",         "sys/firmware",     "sys/devices/virtual/powercap",
};
constexpr std::array kReadOnlyPaths = {"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger"};

struct DeviceNode {
  const char* name;
  unsigned major;
  unsigned minor;
};
constexpr std::array kDeviceNodes = {
    DeviceNode{"dev/null", 1, 3},   DeviceNode{"dev/zero", 1, 5},    DeviceNode{"dev/full", 1, 7},
    DeviceNode{"dev/random", 1, 8}, DeviceNode{"dev/urandom", 1, 9}, DeviceNode{"dev/tty", 5, 0},
};

struct Link {
  const char* path;
  const char* points_to;
};
constexpr std::array kDevLinks = {
    Link{"dev/ptmx", "pts/ptmx"},           Link{"dev/fd", "/proc/self/fd"},
    Link{"dev/stdin", "/proc/self/fd/0"},   Link{"dev/stdout", "/proc/self/fd/1"},
    Link{"dev/stderr", "/proc/self/fd/2"},  Link{"dev/core", "/proc/kcore"},
};

// "/data/x" -> "data/x": steps address paths relative to the container's root.
std::string relative(const std::string& container_path) {
  auto start = container_path.find_first_not_of('/');
  return start == std::string::npos ? std::string{} : container_path.substr(start);
}

void add_mount(InitPlan& plan, const char* source, const char* target, const char* fstype,
               unsigned long flags, const char* data) {
  plan.steps.push_back({.kind = InitStepKind::mount_in_root, .source = source, .target = target,
                        .fstype = fstype, .flags = flags, .data = data});
}

void add_dev(InitPlan& plan, const ContainerSpec& spec) {
  add_mount(plan, "tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  // devpts refuses a gid its user namespace does not map.
  const bool tty_group = !has_own_user_namespace(spec) || host_id_of(spec.gid_map, 5);
  add_mount(plan, "devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
            tty_group ? "newinstance,ptmxmode=0666,mode=0620,gid=5" : "newinstance,ptmxmode=0666,mode=0620");
  add_mount(plan, "shm", "dev/shm", "tmpfs", kNoSuidDevExec, "mode=1777,size=65536k");
  add_mount(plan, "mqueue", "dev/mqueue", "mqueue", kNoSuidDevExec, nullptr);
  add_default_devices(plan, has_own_user_namespace(spec) ? DeviceNodes::bind_host : DeviceNodes::create);
}

}  // namespace

void add_default_devices(InitPlan& plan, DeviceNodes nodes) {
  for (const auto& node : kDeviceNodes) {
    if (nodes == DeviceNodes::bind_host) {
      // "dev/null" in the container is the host's /dev/null.
      plan.steps.push_back({.kind = InitStepKind::bind_in_root,
                            .source = plan.keep(std::string("/") + node.name),
                            .target = node.name,
                            .flags = MS_BIND});
      continue;
    }
    plan.steps.push_back({.kind = InitStepKind::mknod_in_root, .target = node.name,
                          .mode = S_IFCHR | 0666, .device = makedev(node.major, node.minor)});
  }
  for (const auto& link : kDevLinks) {
    plan.steps.push_back({.kind = InitStepKind::symlink_in_root, .source = link.points_to, .target = link.path});
  }
}

namespace {

// Docker gives a privileged container the host's devices: a node in its /dev for every character and
// block device below the host's /dev (its pts, shm and mqueue instances aside), in their directories.
// In a user namespace, where mknod is not allowed, each is the host's node bound in, but for the
// nodes and links /dev already has (a bind would follow the ptmx link into the container's devpts).
void add_host_devices(InitPlan& plan, DeviceNodes nodes) {
  std::set<std::string> present;
  for (const auto& step : plan.steps) {
    if (step.target != nullptr) present.insert(step.target);
  }
  std::error_code error;
  const std::filesystem::path host_dev = "/dev";
  for (auto entry = std::filesystem::recursive_directory_iterator(host_dev, error);
       !error && entry != std::filesystem::recursive_directory_iterator(); entry.increment(error)) {
    // Lexically: resolving would follow links such as /dev/stderr into this process's descriptors.
    const std::string relative = entry->path().lexically_relative("/").string();
    if (relative == "dev/pts" || relative == "dev/shm" || relative == "dev/mqueue") {
      entry.disable_recursion_pending();
      continue;
    }
    struct stat status {};
    if (::lstat(entry->path().c_str(), &status) != 0) continue;
    if (S_ISDIR(status.st_mode)) {
      plan.steps.push_back({.kind = InitStepKind::mkdir_in_root, .target = plan.keep(relative)});
    } else if ((S_ISCHR(status.st_mode) || S_ISBLK(status.st_mode)) && nodes == DeviceNodes::bind_host) {
      if (present.count(relative) == 0) {
        plan.steps.push_back({.kind = InitStepKind::bind_in_root,
                              .source = plan.keep("/" + relative),
                              .target = plan.keep(relative),
                              .flags = MS_BIND});
      }
    } else if (S_ISCHR(status.st_mode) || S_ISBLK(status.st_mode)) {
      plan.steps.push_back({.kind = InitStepKind::mknod_in_root, .target = plan.keep(relative),
                            .mode = status.st_mode, .device = status.st_rdev});
    }
  }
}

}  // namespace

void build_init_plan(const ContainerSpec& spec, const RootfsPlan& rootfs, const EtcMounts& etc,
                     const CgroupView& cgroups, InitPlan& plan) {
  const bool own_user_namespace = has_own_user_namespace(spec);
  for (const auto& mount : rootfs.mounts) {
    // Its user namespace's root cannot build an overlay of our layers: the parent builds it detached,
    // over layers idmapped for that namespace (start/idmapped_overlay), and sends it.
    if (own_user_namespace && &mount == &rootfs.mounts.back()) {
      plan.steps.push_back({.kind = InitStepKind::attach_root, .target = plan.keep(mount.target.string())});
      continue;
    }
    plan.steps.push_back({.kind = InitStepKind::mount_host,
                          .source = plan.keep(mount.source),
                          .target = plan.keep(mount.target.string()),
                          .fstype = mount.fstype.empty() ? nullptr : plan.keep(mount.fstype),
                          .flags = mount.flags,
                          .data = mount.data.empty() ? nullptr : plan.keep(mount.data),
                          .working_directory = mount.working_directory.empty()
                                                   ? nullptr
                                                   : plan.keep(mount.working_directory.string())});
  }
  plan.rootfs = plan.keep(rootfs.rootfs.string());

  add_mount(plan, "proc", "proc", "proc", kNoSuidDevExec, nullptr);
  add_dev(plan, spec);
  if (spec.privileged)
    add_host_devices(plan, own_user_namespace ? DeviceNodes::bind_host : DeviceNodes::create);
  if (own_user_namespace && spec.network == NetworkMode::host) {
    // A user namespace may mount sysfs only for a network namespace it owns, and the host's is not its
    // own: the host's /sys is bound in instead, read-only, without its submounts (cgroup, debugfs, ...).
    // Rootless, with them: mcore's own mount namespace is a user namespace's, where the kernel keeps the
    // host's mounts locked together and refuses to bind one without those below it.
    plan.steps.push_back(
        {.kind = InitStepKind::bind_in_root,
         .source = "/sys",
         .target = "sys",
         .flags = static_cast<unsigned long>(in_initial_user_namespace() ? MS_BIND : MS_BIND | MS_REC),
         .read_only = true});
  } else {
    add_mount(plan, "sysfs", "sys", "sysfs", kNoSuidDevExec | (spec.privileged ? 0 : MS_RDONLY), nullptr);
  }

  for (const auto& [source, target] : {std::pair{&etc.hosts, "etc/hosts"}, std::pair{&etc.resolv_conf, "etc/resolv.conf"},
                                       std::pair{&etc.hostname, "etc/hostname"}}) {
    if (source->empty()) continue;
    plan.steps.push_back({.kind = InitStepKind::bind_in_root, .source = plan.keep(*source), .target = target});
  }
  for (const auto& volume : spec.volumes) {
    plan.steps.push_back({.kind = InitStepKind::bind_in_root,
                          .source = plan.keep(volume.host_path.string()),
                          .target = plan.keep(relative(volume.container_path)),
                          .read_only = volume.read_only,
                          .idmap = volume.idmap});
  }
  for (const auto& tmpfs : spec.tmpfs) {
    add_mount(plan, "tmpfs", plan.keep(relative(tmpfs.container_path)), "tmpfs", tmpfs.flags,
              tmpfs.data.empty() ? nullptr : plan.keep(tmpfs.data));
  }
  if (!spec.privileged) {
    for (const char* path : kMaskedPaths) plan.steps.push_back({.kind = InitStepKind::mask_in_root, .target = path});
    for (const char* path : kReadOnlyPaths) {
      plan.steps.push_back({.kind = InitStepKind::readonly_in_root, .target = path});
    }
  }
  plan.steps.push_back({.kind = InitStepKind::mkdir_in_root, .target = plan.keep(relative(spec.working_dir))});
  if (spec.read_only_rootfs) plan.steps.push_back({.kind = InitStepKind::remount_root_ro});

  plan.hostname = plan.keep(spec.hostname);
  build_process_plan(spec, plan);
  plan.new_cgroup_namespace = cgroups.own_namespace;
  if (cgroups.own_namespace) add_cgroup_mounts(plan, cgroups.hierarchies, own_user_namespace);
  plan.cgroup_mounts_writable = spec.privileged;
  plan.loopback_up = spec.network == NetworkMode::none;
  if (own_user_namespace) send_bind_sources(plan);
}

void add_cgroup_mounts(InitPlan& plan, const std::vector<CgroupHierarchy>& hierarchies,
                       bool own_user_namespace) {
  const bool all_v2 =
      std::all_of(hierarchies.begin(), hierarchies.end(),
                  [](const CgroupHierarchy& hierarchy) { return hierarchy.fstype == "cgroup2"; });
  if (own_user_namespace && !all_v2) return;
  for (const auto& hierarchy : hierarchies) {
    plan.cgroup_mounts.push_back(
        {plan.keep(hierarchy.name), plan.keep(hierarchy.fstype), plan.keep(hierarchy.options)});
  }
}

void send_bind_sources(InitPlan& plan) {
  for (auto& step : plan.steps) step.source_sent = step.kind == InitStepKind::bind_in_root;
}

void build_process_plan(const ContainerSpec& spec, InitPlan& plan) {
  plan.working_dir = plan.keep(spec.working_dir);
  for (const auto& arg : spec.args) plan.argv.push_back(const_cast<char*>(plan.keep(arg)));
  plan.argv.push_back(nullptr);
  for (const auto& variable : spec.env) {
    const char* kept = plan.keep(variable);
    plan.envp.push_back(const_cast<char*>(kept));
    if (variable.starts_with("PATH=")) plan.path_env = kept + 5;
    if (variable.starts_with("HOME=")) plan.home_slot = -2;
  }
  // Docker takes HOME from the user's passwd entry unless it was given.
  if (plan.home_slot == -1) {
    plan.home_slot = static_cast<int>(plan.envp.size());
    plan.envp.push_back(const_cast<char*>(plan.keep("HOME=/")));
  } else {
    plan.home_slot = -1;
  }
  plan.envp.push_back(nullptr);
  plan.user = plan.keep(spec.user);
  plan.group = spec.group ? plan.keep(*spec.group) : nullptr;
  plan.capabilities = spec.capabilities;
  plan.no_new_privileges = spec.no_new_privileges;
  plan.tty = spec.tty;
  plan.stdin_null = !spec.interactive;
}

}  // namespace mcore::engine
