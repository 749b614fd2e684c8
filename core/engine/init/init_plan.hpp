#pragma once
// The container init's script: every mount, node, link and setting the child applies between clone and
// execve, prepared in the parent as plain C data so the child never allocates. Paths marked "in root"
// are resolved inside the container's root with openat2(RESOLVE_IN_ROOT): a symlink in the image can
// never make a mount land on the host.
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "engine/container/container_spec.hpp"
#include "engine/context/host_facts.hpp"
#include "engine/security/capabilities.hpp"
#include "engine/security/seccomp_profile.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore::engine {

enum class InitStepKind : unsigned char {
  mount_host,        // mount(source, target) with target an absolute host path (the storage driver's)
  attach_root,       // become root of the user namespace, then attach the root the parent sends on target
  mount_in_root,     // mount a file system (proc, tmpfs, ...) on a directory in root, creating it
  bind_in_root,      // bind host path `source` on a path in root, creating a directory or file for it
  mask_in_root,      // hide a path in root: /dev/null over a file, read-only tmpfs over a directory
  readonly_in_root,  // bind a path in root over itself and make it read-only
  mkdir_in_root,     // create a directory in root (and its parents)
  mknod_in_root,     // create a device node in root
  symlink_in_root,   // create symlink `target` -> `source`
  remount_root_ro,   // make the root mount read-only (after its submounts)
  sysctl_in_root,    // write `data` to `target`, a file of the container's own procfs (proc/sys/...)
};

struct InitStep {
  InitStepKind kind;
  const char* source = nullptr;
  const char* target = nullptr;  // host path for mount_host, otherwise relative to the root
  const char* fstype = nullptr;
  unsigned long flags = 0;
  const char* data = nullptr;
  bool read_only = false;        // bind_in_root: remount read-only afterwards
  mode_t mode = 0;               // mknod_in_root
  dev_t device = 0;              // mknod_in_root
  uid_t owner_uid = 0;           // mknod_in_root: the node's owner
  gid_t owner_gid = 0;
  const char* working_directory = nullptr;  // mount_host: chdir here first (relative paths in data)
  // mount_in_root and bind_in_root: MS_PRIVATE, MS_SLAVE, MS_SHARED or MS_UNBINDABLE (| MS_REC) to
  // apply after the mount; 0 leaves it private (the whole tree is made private first).
  unsigned long propagation = 0;
  bool copy_up = false;  // mount_in_root: copy what the directory held into the new mount (tmpcopyup)
  // bind_in_root in a user namespace of the container's own: the parent opens `source` (its root
  // reaches host paths the container's root may not) and sends it as a detached mount, in step order.
  bool source_sent = false;
  // source_sent: the parent idmaps the clone for the container's namespace (-v ...:idmap).
  bool idmap = false;
};

// What a bind_in_root step binds: mcore run's volumes are recursive binds; an OCI mount says bind or
// rbind in its flags.
inline unsigned long bind_flags(const InitStep& step) {
  return step.flags == 0 ? MS_BIND | MS_REC : step.flags & (MS_BIND | MS_REC);
}

// A cgroup hierarchy the init mounts at /sys/fs/cgroup/<name> once it is in its own cgroup namespace.
struct CgroupMountStep {
  const char* name;     // "" for /sys/fs/cgroup itself (a pure cgroup v2 host)
  const char* fstype;   // "cgroup" or "cgroup2"
  const char* options;  // the host hierarchy's own ("memory", "xattr,name=systemd"); the kernel insists
};

struct InitPlan {
  std::vector<InitStep> steps;
  const char* rootfs = nullptr;  // host path of the assembled root, pivoted into
  const char* hostname = nullptr;
  const char* working_dir = nullptr;
  std::vector<char*> argv;  // null-terminated
  std::vector<char*> envp;  // null-terminated
  const char* path_env = nullptr;  // PATH's value for the command lookup
  const char* user = "";          // resolved in the container: name or uid, "" for root
  const char* group = nullptr;    // name or gid, null when not given
  int home_slot = -1;             // envp index the init fills with HOME from passwd; -1 when HOME was set
  CapabilitySet capabilities = 0;
  bool no_new_privileges = false;
  SeccompProgram seccomp;
  bool tty = false;
  bool stdin_null = false;        // give the command /dev/null as stdin (no -i)
  int stdio[3] = {-1, -1, -1};    // descriptors dup'ed onto 0, 1, 2 (the supervisor's pipes); -1 keeps it
  bool new_cgroup_namespace = false;
  // The container's own cgroups at /sys/fs/cgroup, read-only unless privileged (Docker's layout: the
  // hierarchies, each rooted at the container's group). Empty without a cgroup namespace.
  std::vector<CgroupMountStep> cgroup_mounts;
  bool cgroup_mounts_writable = false;
  bool loopback_up = false;  // bring `lo` up: a network namespace of its own that no driver attaches
  int sync_fd = -1;               // the child's end of the sync socket

  // What an OCI bundle (mcore-oci) asks beyond mcore run's model; the defaults are mcore run's.
  struct NamespaceJoin {
    int fd;    // an open nsfs file (/proc/PID/ns/net, a bind mount of one)
    int type;  // its CLONE_NEW* type, checked by the parent
  };
  std::vector<NamespaceJoin> join_namespaces;  // joined first, before any mount
  const char* domainname = nullptr;
  mode_t umask = 022;
  bool explicit_groups = false;        // additional_gids exactly, not the user's groups in /etc/group
  std::vector<gid_t> additional_gids;
  struct Rlimit {
    int resource;
    rlim_t soft;
    rlim_t hard;
  };
  std::vector<Rlimit> rlimits;
  // The bounding set when it differs from `capabilities` (OCI's process.capabilities.bounding).
  std::optional<CapabilitySet> bounding;
  // mcore run: the init dies with its supervisor (PR_SET_PDEATHSIG). mcore-oci create exits and leaves
  // the init to its caller, so it must not.
  bool die_with_parent = true;
  // mcore-oci: the exec FIFO's read end. After setting up, the init reports "ready" on the sync socket
  // and waits for `start` to write a byte into the FIFO before it drops privileges and execs.
  int start_fifo_fd = -1;
  // mcore-oci --preserve-fds: descriptors 3 .. 3+N-1 reach the command too.
  int preserve_fds = 0;
  // mcore-oci with createRuntime or createContainer hooks: once its namespaces and mounts are made and
  // before pivot_root, the init reports "hooks" and waits for a "go" byte while mcore-oci runs them.
  bool hook_barrier = false;
  // mcore-oci's linux.rootfsPropagation (MS_* flags), set on the root after pivot_root; 0 (mcore run):
  // every mount stays private. Slave or shared starts the namespace as a slave of the host (host
  // mounts reach the container); nothing the container mounts ever propagates back to the host.
  unsigned long root_propagation = 0;

  // Keeps a string alive for as long as the plan and returns its C string.
  const char* keep(std::string text);

 private:
  std::deque<std::string> strings_;
};

// The host files bind-mounted on /etc/hosts, /etc/resolv.conf and /etc/hostname.
struct EtcMounts {
  std::string hosts;
  std::string resolv_conf;
  std::string hostname;
};

// The container's cgroups as it will see them: a namespace of its own when the kernel has them, and the
// host's hierarchies (host_cgroup_hierarchies) to mount inside it.
struct CgroupView {
  bool own_namespace = false;
  std::vector<CgroupHierarchy> hierarchies;
};

// The runtime-spec's default devices in /dev (null, zero, full, random, urandom, tty) and its links
// (/dev/fd, stdin, stdout, stderr, ptmx -> pts/ptmx, core): nodes the init creates, or, in a user
// namespace of its own (where mknod is refused), binds of the host's nodes.
enum class DeviceNodes { create, bind_host };
void add_default_devices(InitPlan& plan, DeviceNodes nodes = DeviceNodes::create);

// The hierarchies the init mounts at /sys/fs/cgroup in its own cgroup namespace (without one, a
// hierarchy would show the host's tree). A user namespace may mount cgroup2 but not a v1 hierarchy (not
// FS_USERNS_MOUNT): in one, on a v1 or hybrid host, the container's /sys/fs/cgroup stays empty.
void add_cgroup_mounts(InitPlan& plan, const std::vector<CgroupHierarchy>& hierarchies,
                       bool own_user_namespace);

// In a user namespace of the container's own, every bind's source comes from the parent (its root
// reaches host paths the container's root may not): marks them source_sent.
void send_bind_sources(InitPlan& plan);

// Builds the init script for `spec` on top of the mounts the storage driver described (in a user
// namespace of its own, the last, the root, comes from the parent as a detached mount): Docker's /proc,
// /sys (with the container's own cgroups), /dev (every host device for a privileged container), masked
// and read-only paths (all skipped for privileged containers where Docker skips them), the /etc files,
// volumes (which may cover them), tmpfs mounts, and the process settings.
void build_init_plan(const ContainerSpec& spec, const RootfsPlan& rootfs, const EtcMounts& etc,
                     const CgroupView& cgroups, InitPlan& plan);

// The process part of a plan, shared by the init and `mcore exec`'s processes: command, environment
// (HOME left for the child to fill in from passwd unless given), working directory, user,
// capabilities, no_new_privs, terminal and stdin. The seccomp program is the caller's to set.
void build_process_plan(const ContainerSpec& spec, InitPlan& plan);

}  // namespace mcore::engine
