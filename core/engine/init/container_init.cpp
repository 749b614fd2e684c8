#include "engine/init/container_init.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include <linux/openat2.h>

#include "engine/init/container_child.hpp"
#include "engine/init/copy_up.hpp"
#include "engine/init/init_protocol.hpp"
#include "engine/io/fd_passing.hpp"

namespace mcore::engine {
namespace {

// The init is a container child that also holds the new root open while it assembles it.
struct Init : ContainerChild {
  int root_fd = -1;
  // The directory the last node or symlink went into (/dev for most), kept open for the next ones.
  // Only consecutive node and symlink steps share it: any other step may mount over it.
  int node_parent_fd = -1;
  char node_parent[PATH_MAX] = {};
};

void forget_node_parent(Init& init) {
  if (init.node_parent_fd >= 0) ::close(init.node_parent_fd);
  init.node_parent_fd = -1;
}

// "/proc/self/fd/<fd>": mounting onto an fd path acts on exactly the object openat2 resolved.
struct FdPath {
  explicit FdPath(int fd) {
    char digits[16];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + fd % 10);
      fd /= 10;
    } while (fd > 0);
    std::memcpy(text, "/proc/self/fd/", 14);
    int at = 14;
    while (n > 0) text[at++] = digits[--n];
    text[at] = '\0';
  }
  char text[32];
};

enum class Create { nothing, directory, file };

int openat2_in_root(int root_fd, const char* path) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, root_fd, *path == '\0' ? "." : path, &how, sizeof how));
}

// Splits `path` into its parent (written to `parent`, "" for a top-level name) and its last component.
// Returns the last component or nullptr (errno ENAMETOOLONG).
const char* split_parent(const char* path, char (&parent)[PATH_MAX]) {
  std::size_t length = std::strlen(path);
  if (length >= sizeof parent) {
    errno = ENAMETOOLONG;
    return nullptr;
  }
  std::memcpy(parent, path, length + 1);
  char* slash = std::strrchr(parent, '/');
  if (slash == nullptr) {
    parent[0] = '\0';
    return path;
  }
  *slash = '\0';
  return path + (slash - parent) + 1;
}

// Opens `path` inside the root (symlinks resolved as if the root were "/"), creating it and its missing
// parents when asked. A dangling symlink on the way is followed, inside the root, and its target
// created, as runc does. Returns an O_PATH fd or -1 with errno set.
int open_in_root(int root_fd, const char* path, Create create, int links_followed = 0) {
  int fd = openat2_in_root(root_fd, path);
  if (fd >= 0 || errno != ENOENT || create == Create::nothing) return fd;

  char parent[PATH_MAX];
  const char* base = split_parent(path, parent);
  if (base == nullptr) return -1;
  int parent_fd = open_in_root(root_fd, parent, Create::directory, links_followed);
  if (parent_fd < 0) return -1;
  int made;
  if (create == Create::directory) {
    made = ::mkdirat(parent_fd, base, 0755);
  } else {
    made = ::openat(parent_fd, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (made >= 0) ::close(made);
  }
  int saved = errno;
  char link[PATH_MAX];
  ssize_t link_length = made < 0 && saved == EEXIST ? ::readlinkat(parent_fd, base, link, sizeof link - 1) : -1;
  ::close(parent_fd);
  if (link_length > 0) {
    // A dangling symlink: create what it points at, resolved inside the root.
    if (links_followed >= 40) {
      errno = ELOOP;
      return -1;
    }
    link[link_length] = '\0';
    char target[PATH_MAX];
    std::size_t at = 0;
    if (link[0] != '/' && parent[0] != '\0') {
      std::size_t parent_length = std::strlen(parent);
      if (parent_length + 1 >= sizeof target) {
        errno = ENAMETOOLONG;
        return -1;
      }
      std::memcpy(target, parent, parent_length);
      target[parent_length] = '/';
      at = parent_length + 1;
    }
    const char* rest = link;
    while (*rest == '/') ++rest;
    std::size_t rest_length = std::strlen(rest);
    if (at + rest_length >= sizeof target) {
      errno = ENAMETOOLONG;
      return -1;
    }
    std::memcpy(target + at, rest, rest_length + 1);
    int created = open_in_root(root_fd, target, create, links_followed + 1);
    if (created < 0) return -1;
    ::close(created);
    return openat2_in_root(root_fd, path);
  }
  if (made < 0 && saved != EEXIST) {
    errno = saved;
    return -1;
  }
  return openat2_in_root(root_fd, path);
}

// The per-mount flags a read-only remount must keep (a bind remount replaces them all).
unsigned long kept_mount_flags(int fd) {
  struct statfs info {};
  if (::fstatfs(fd, &info) != 0) return 0;
  unsigned long flags = 0;
  if (info.f_flags & ST_NOSUID) flags |= MS_NOSUID;
  if (info.f_flags & ST_NODEV) flags |= MS_NODEV;
  if (info.f_flags & ST_NOEXEC) flags |= MS_NOEXEC;
  if (info.f_flags & ST_NOATIME) flags |= MS_NOATIME;
  if (info.f_flags & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (info.f_flags & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

// A bind mount takes its per-mount flags (read-only, nosuid, ...) only from a remount.
void remount_bind(const Init& init, const char* target, unsigned long flags) {
  int fd = open_in_root(init.root_fd, target, Create::nothing);
  if (fd < 0) init.fail("open for remount", target);
  FdPath at(fd);
  if (::mount(nullptr, at.text, nullptr, MS_BIND | MS_REMOUNT | flags | kept_mount_flags(fd), nullptr) != 0) {
    init.fail("remount", target);
  }
  ::close(fd);
}

void remount_read_only(const Init& init, const char* target) { remount_bind(init, target, MS_RDONLY); }

void set_propagation(const Init& init, const InitStep& step) {
  if (step.propagation == 0) return;
  int fd = open_in_root(init.root_fd, step.target, Create::nothing);
  if (fd < 0) init.fail("open for propagation", step.target);
  FdPath at(fd);
  if (::mount(nullptr, at.text, nullptr, step.propagation, nullptr) != 0) init.fail("set the propagation of", step.target);
  ::close(fd);
}

// A detached mount the parent sends for a user namespace of the container's own: first the root, once
// it has written the namespace's id maps, then each bind mount's source.
int receive_mount(const Init& init, const char* what) {
  char byte = 0;
  UniqueFd mount;
  const ssize_t n = receive_message(init.plan.sync_fd, &byte, 1, &mount);
  if (n != 1 || !mount) {
    if (n >= 0) errno = EPROTO;
    init.fail("receive from mcore", what);
  }
  return mount.release();
}

void apply_step(Init& init, const InitStep& step) {
  switch (step.kind) {
    case InitStepKind::attach_root: {
      const int root = receive_mount(init, "the container's root");
      // Opened while still host uid 0, which owns the storage's 0700 directories on the way.
      const int target = ::open(step.target, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (target < 0) init.fail("open the mount point of the container's root");
      // The maps are written: become the namespace's root, as the files it creates must be owned by
      // an id it maps. Its capabilities stay (capabilities(7): it becomes its namespace's root).
      if (::setgroups(0, nullptr) != 0 || ::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) {
        init.fail("become root of the user namespace");
      }
      if (::move_mount(root, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
        init.fail("attach the container's root");
      }
      ::close(target);
      // The mount's own descriptor is the root from now on: its path is no longer ours to walk.
      init.root_fd = root;
      return;
    }
    case InitStepKind::mount_host:
      // The driver's options may be relative to its directory. No need to chdir back: pivot_into_root
      // chdir()s to the root before anything else uses the working directory.
      if (step.working_directory != nullptr && ::chdir(step.working_directory) != 0) {
        StepText text;
        init.fail(text.add("chdir to ").add(step.working_directory).add(" for mount on ").add(step.target),
                  errno);
      }
      if (::mount(step.source, step.target, step.fstype, step.flags, step.data) != 0) {
        StepText text;
        init.fail(text.add("mount ").add(step.source).add(" on ").add(step.target), errno);
      }
      return;
    case InitStepKind::mount_in_root: {
      int fd = open_in_root(init.root_fd, step.target, Create::directory);
      if (fd < 0) init.fail("create mount point", step.target);
      // Opened before the mount, this keeps the directory underneath reachable.
      const int below = step.copy_up ? ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
      if (step.copy_up && below < 0) init.fail("open the directory to copy up", step.target);
      FdPath at(fd);
      if (::mount(step.source, at.text, step.fstype, step.flags, step.data) != 0) {
        StepText text;
        init.fail(text.add("mount ").add(step.fstype).add(" on /").add(step.target), errno);
      }
      ::close(fd);
      if (step.copy_up) {
        const int mounted = open_in_root(init.root_fd, step.target, Create::nothing);
        const int copy_directory = mounted < 0 ? -1 : ::openat(mounted, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (copy_directory < 0) init.fail("open the new mount to copy up", step.target);
        if (int rc = copy_tree(below, copy_directory); rc != 0) {
          errno = rc;
          init.fail("copy up (tmpcopyup) into", step.target);
        }
        ::close(copy_directory);
        ::close(mounted);
        ::close(below);
      }
      set_propagation(init, step);
      return;
    }
    case InitStepKind::bind_in_root: {
      const int sent = step.source_sent ? receive_mount(init, step.source) : -1;
      struct stat source {};
      if ((sent >= 0 ? ::fstat(sent, &source) : ::stat(step.source, &source)) != 0) {
        init.fail("stat volume source", step.source + 1);
      }
      int fd = open_in_root(init.root_fd, step.target, S_ISDIR(source.st_mode) ? Create::directory : Create::file);
      if (fd < 0) init.fail("create volume mount point", step.target);
      FdPath at(fd);
      const unsigned long bind = bind_flags(step);
      const int rc = sent >= 0
                         ? ::move_mount(sent, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
                         : ::mount(step.source, at.text, nullptr, bind, nullptr);
      if (sent >= 0) ::close(sent);
      if (rc != 0) {
        StepText text;
        init.fail(text.add("bind ").add(step.source).add(" on /").add(step.target), errno);
      }
      ::close(fd);
      constexpr unsigned long kPerMount = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                          MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;
      const unsigned long per_mount = (step.flags & kPerMount) | (step.read_only ? MS_RDONLY : 0);
      if (per_mount != 0) remount_bind(init, step.target, per_mount);
      set_propagation(init, step);
      return;
    }
    case InitStepKind::mask_in_root: {
      int fd = open_in_root(init.root_fd, step.target, Create::nothing);
      if (fd < 0) {
        if (errno == ENOENT) return;
        init.fail("open masked path", step.target);
      }
      struct stat target {};
      ::fstat(fd, &target);
      FdPath at(fd);
      int rc = S_ISDIR(target.st_mode) ? ::mount("tmpfs", at.text, "tmpfs", MS_RDONLY, nullptr)
                                       : ::mount("/dev/null", at.text, nullptr, MS_BIND, nullptr);
      if (rc != 0) init.fail("mask", step.target);
      ::close(fd);
      return;
    }
    case InitStepKind::readonly_in_root: {
      int fd = open_in_root(init.root_fd, step.target, Create::nothing);
      if (fd < 0) {
        if (errno == ENOENT) return;
        init.fail("open read-only path", step.target);
      }
      FdPath at(fd);
      if (::mount(at.text, at.text, nullptr, MS_BIND | MS_REC, nullptr) != 0) init.fail("bind", step.target);
      ::close(fd);
      // Reopen: the old fd still names the mount underneath the new bind.
      remount_read_only(init, step.target);
      return;
    }
    case InitStepKind::mkdir_in_root: {
      int fd = open_in_root(init.root_fd, step.target, Create::directory);
      if (fd < 0) init.fail("create directory", step.target);
      ::close(fd);
      return;
    }
    case InitStepKind::mknod_in_root:
    case InitStepKind::symlink_in_root: {
      char parent_path[PATH_MAX];
      const char* base = split_parent(step.target, parent_path);
      if (base == nullptr) init.fail("open parent of", step.target);
      if (init.node_parent_fd < 0 || std::strcmp(parent_path, init.node_parent) != 0) {
        forget_node_parent(init);
        init.node_parent_fd = open_in_root(init.root_fd, parent_path, Create::directory);
        if (init.node_parent_fd < 0) init.fail("open parent of", step.target);
        std::memcpy(init.node_parent, parent_path, sizeof parent_path);
      }
      const int parent = init.node_parent_fd;
      int rc = step.kind == InitStepKind::mknod_in_root ? ::mknodat(parent, base, step.mode, step.device)
                                                        : ::symlinkat(step.source, parent, base);
      if (rc != 0 && errno != EEXIST) init.fail("create", step.target);
      if (rc == 0 && (step.owner_uid != 0 || step.owner_gid != 0) &&
          ::fchownat(parent, base, step.owner_uid, step.owner_gid, AT_SYMLINK_NOFOLLOW) != 0) {
        init.fail("set the owner of", step.target);
      }
      return;
    }
    case InitStepKind::sysctl_in_root: {
      // Only into the container's procfs: a spec without /proc must not make us write into the image.
      int fd = open_in_root(init.root_fd, step.target, Create::nothing);
      if (fd < 0) init.fail("open the sysctl", step.target);
      struct statfs filesystem {};
      if (::fstatfs(fd, &filesystem) != 0 || filesystem.f_type != PROC_SUPER_MAGIC) {
        errno = EXDEV;
        init.fail("write the sysctl (not on the container's /proc)", step.target);
      }
      FdPath at(fd);
      int file = ::open(at.text, O_WRONLY | O_CLOEXEC);
      const std::size_t length = std::strlen(step.data);
      if (file < 0 || ::write(file, step.data, length) != static_cast<ssize_t>(length)) init.fail("write the sysctl", step.target);
      ::close(file);
      ::close(fd);
      return;
    }
    case InitStepKind::remount_root_ro:
      if (::mount(nullptr, FdPath(init.root_fd).text, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) !=
          0) {
        init.fail("remount the root read-only");
      }
      return;
  }
}

void pivot_into_root(const Init& init) {
  if (::fchdir(init.root_fd) != 0) init.fail("chdir to the new root");
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only the new.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) init.fail("pivot_root");
  if (::umount2(".", MNT_DETACH) != 0) init.fail("detach the old root");
  if (::chdir("/") != 0) init.fail("chdir /");
}

// The container lives exactly as long as its supervisor, so that a free supervisor lock proves nothing
// of it runs. Set last: a change of credentials clears the parent-death signal. The supervisor holds
// its end of the sync socket until the exec, so a hang-up here means it died before the prctl.
void die_with_supervisor(const Init& init) {
  if (!init.plan.die_with_parent) return;
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) init.fail("set the parent-death signal");
  pollfd peer{init.plan.sync_fd, POLLRDHUP, 0};
  if (::poll(&peer, 1, 0) == 1 && (peer.revents & (POLLHUP | POLLRDHUP)) != 0) ::_exit(125);
}

// The container's own cgroups at /sys/fs/cgroup, as Docker mounts them: once in the cgroup namespace,
// each hierarchy's root is the container's group. On a v1 or hybrid host, a tmpfs holds a directory per
// hierarchy and is made read-only after; read-only throughout but for a privileged container.
void mount_own_cgroups(const Init& init) {
  const InitPlan& plan = init.plan;
  if (plan.cgroup_mounts.empty()) return;
  const unsigned long read_only = plan.cgroup_mounts_writable ? 0 : MS_RDONLY;
  constexpr unsigned long kFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  const bool single = plan.cgroup_mounts.size() == 1 && plan.cgroup_mounts.front().name[0] == '\0';
  if (!single && ::mount("cgroup", "/sys/fs/cgroup", "tmpfs", kFlags, "mode=755") != 0) {
    init.fail("mount a tmpfs on /sys/fs/cgroup");
  }
  char path[PATH_MAX];
  for (const CgroupMountStep& step : plan.cgroup_mounts) {
    std::size_t at = 0;
    for (const char* part : {"/sys/fs/cgroup", step.name[0] != '\0' ? "/" : "", step.name}) {
      for (; *part != '\0' && at + 1 < sizeof path; ++part) path[at++] = *part;
    }
    path[at] = '\0';
    if (!single && ::mkdir(path, 0755) != 0 && errno != EEXIST) init.fail("create", path + 1);
    if (::mount("cgroup", path, step.fstype, kFlags | read_only, step.options) != 0) init.fail("mount cgroup", path + 1);
  }
  if (!single && read_only != 0 &&
      ::mount(nullptr, "/sys/fs/cgroup", nullptr, MS_REMOUNT | kFlags | MS_RDONLY, "mode=755") != 0) {
    init.fail("make /sys/fs/cgroup read-only");
  }
}

// A network namespace of its own that no driver attaches (--network none) still has a working
// loopback, as in Docker.
void bring_up_loopback(const Init& init) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) init.fail("open a socket to bring lo up");
  ifreq request{};
  std::memcpy(request.ifr_name, "lo", 3);
  if (::ioctl(fd, SIOCGIFFLAGS, &request) != 0) init.fail("read the flags of lo");
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (::ioctl(fd, SIOCSIFFLAGS, &request) != 0) init.fail("bring lo up");
  ::close(fd);
}

// OCI namespaces given by path (a network namespace that containerd's CRI or Podman made), joined
// before anything else so every later step happens inside them.
void join_namespaces(const Init& init) {
  for (const auto& join : init.plan.join_namespaces) {
    if (::setns(join.fd, join.type) != 0) init.fail("join a namespace given by path");
    ::close(join.fd);
  }
}

// mcore-oci's hook barrier: the namespaces and mounts exist and the root is not pivoted yet, which is
// where the runtime-spec runs createRuntime and createContainer (whose path resolves in the runtime's
// view). mcore-oci runs them and then sends "go".
void wait_for_hooks(const Init& init) {
  InitMessage hooks{};
  hooks.kind = InitMessageKind::hooks;
  if (::send(init.plan.sync_fd, &hooks, sizeof hooks, MSG_NOSIGNAL) != sizeof hooks) ::_exit(125);
  wait_for_go(init);
}

// mcore-oci's start barrier: tell `create` that all is set up, then wait for `start` to write into the
// exec FIFO. Until a writer has opened it, poll on the read end sees neither data nor a hang-up. It runs
// under the container's seccomp filter: it needs sendto, close, poll and read.
void wait_for_start(const Init& init) {
  const int fifo = init.plan.start_fifo_fd;
  InitMessage ready{};
  ready.kind = InitMessageKind::ready;
  if (::send(init.plan.sync_fd, &ready, sizeof ready, MSG_NOSIGNAL) != sizeof ready) ::_exit(125);
  // `create` is gone from here on: nothing reads the sync socket any more.
  ::close(init.plan.sync_fd);
  init.plan.sync_fd = -1;
  pollfd start{fifo, POLLIN, 0};
  while (::poll(&start, 1, -1) < 0) {
    if (errno != EINTR) ::_exit(125);
  }
  char byte = 0;
  ssize_t n;
  do {
    n = ::read(fifo, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(125);
  ::close(fifo);
}

}  // namespace

void run_container_init(InitPlan& plan) noexcept {
  Init init{{plan}};
  // Nothing of the container can see the init before it execs the command, but should its PID
  // namespace ever be shared, its /proc entries stay closed as those of `mcore exec`'s processes are.
  // In a user namespace of its own, only before the exec: until then its launcher, which may be an
  // ordinary user's process (rootless mcore), opens its /proc/PID/gid_map and ns/net (for pasta), and
  // an undumpable process's /proc files are the host root's. Its namespaces are new and hold nothing
  // else meanwhile; under host root, its setresuid in attach_root makes it undumpable anyway.
  const bool maps_pending = std::any_of(plan.steps.begin(), plan.steps.end(), [](const InitStep& step) {
    return step.kind == InitStepKind::attach_root;
  });
  if (!maps_pending) stay_undumpable(init);
  join_namespaces(init);
  ::umask(0);
  // Nothing we mount may propagate back to the host; a slave still receives the host's mounts.
  const bool receive_host_mounts = (plan.root_propagation & (MS_SLAVE | MS_SHARED)) != 0;
  if (::mount(nullptr, "/", nullptr, MS_REC | (receive_host_mounts ? MS_SLAVE : MS_PRIVATE), nullptr) != 0) {
    init.fail("make mounts private");
  }

  for (const InitStep& step : plan.steps) {
    // Once the driver's mounts are made (attach_root opens it itself).
    if (step.kind != InitStepKind::mount_host && step.kind != InitStepKind::attach_root && init.root_fd < 0) {
      init.root_fd = ::open(plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (init.root_fd < 0) init.fail("open the container root");
    }
    if (step.kind != InitStepKind::mknod_in_root && step.kind != InitStepKind::symlink_in_root) {
      forget_node_parent(init);
    }
    apply_step(init, step);
  }
  forget_node_parent(init);
  if (init.root_fd < 0 && (init.root_fd = ::open(plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
    init.fail("open the container root");
  }
  if (plan.hook_barrier) wait_for_hooks(init);
  pivot_into_root(init);
  ::close(init.root_fd);
  // A shared root after the slave start above forms a peer group of the container's own.
  if (plan.root_propagation != 0 && ::mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) != 0) {
    init.fail("set the propagation of the root");
  }
  const ResolvedUser user = resolve_credentials(init);

  attach_stdio(init);
  start_session(init);
  if (plan.hostname != nullptr && ::sethostname(plan.hostname, std::strlen(plan.hostname)) != 0) init.fail("sethostname");
  if (plan.domainname != nullptr && ::setdomainname(plan.domainname, std::strlen(plan.domainname)) != 0) {
    init.fail("setdomainname");
  }
  if (plan.loopback_up) bring_up_loopback(init);

  wait_for_go(init);
  // After the barrier, so the namespace's root is the container's own cgroup.
  if (plan.new_cgroup_namespace && ::unshare(CLONE_NEWCGROUP) != 0) init.fail("unshare the cgroup namespace");
  mount_own_cgroups(init);
  if (::chdir(plan.working_dir) != 0) init.fail("chdir to the working directory", plan.working_dir + 1);
  apply_rlimits(init);

  drop_privileges(init, user);
  stay_undumpable(init);
  if (plan.start_fifo_fd >= 0) {
    // After every step that can fail, so that `create` reports it (a command the user cannot find or
    // execute included, checked as that user); only the exec is left for `start`.
    check_command(init);
    wait_for_start(init);
  }
  ::umask(plan.umask);
  reset_signals();
  die_with_supervisor(init);
  exec_command(init);
}

}  // namespace mcore::engine
