#include "engine/container_init.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "engine/init_protocol.hpp"
#include "engine/user_lookup.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace mcore::engine {
namespace {

// A fixed-size string builder for step names: no allocation between clone and execve.
class StepText {
 public:
  StepText& add(const char* text) {
    for (; text != nullptr && *text != '\0' && length_ + 1 < sizeof buffer_; ++text) buffer_[length_++] = *text;
    buffer_[length_] = '\0';
    return *this;
  }
  const char* c_str() const { return buffer_; }

 private:
  char buffer_[240] = {};
  std::size_t length_ = 0;
};

struct Init {
  InitPlan& plan;
  int root_fd = -1;

  [[noreturn]] void fail(const StepText& step, int error_number) const {
    InitMessage message{};
    message.kind = InitMessageKind::failure;
    message.error_number = error_number;
    std::memcpy(message.step, step.c_str(), sizeof message.step - 1);
    ::send(plan.sync_fd, &message, sizeof message, MSG_NOSIGNAL);
    ::_exit(125);
  }
  [[noreturn]] void fail(const char* step, const char* target = nullptr) const {
    int saved = errno;
    StepText text;
    text.add(step);
    if (target != nullptr) text.add(" /").add(target);
    fail(text, saved);
  }
};

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

// Splits "a/b/c" into an O_PATH fd for "a/b" (in root, created when missing) and "c".
int open_parent_in_root(int root_fd, const char* path, const char** base) {
  char parent[PATH_MAX];
  *base = split_parent(path, parent);
  if (*base == nullptr) return -1;
  return open_in_root(root_fd, parent, Create::directory);
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

void remount_read_only(const Init& init, const char* target) {
  int fd = open_in_root(init.root_fd, target, Create::nothing);
  if (fd < 0) init.fail("open for read-only remount", target);
  FdPath at(fd);
  if (::mount(nullptr, at.text, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | kept_mount_flags(fd), nullptr) != 0) {
    init.fail("remount read-only", target);
  }
  ::close(fd);
}

void apply_step(Init& init, const InitStep& step) {
  switch (step.kind) {
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
      FdPath at(fd);
      if (::mount(step.source, at.text, step.fstype, step.flags, step.data) != 0) {
        StepText text;
        init.fail(text.add("mount ").add(step.fstype).add(" on /").add(step.target), errno);
      }
      ::close(fd);
      return;
    }
    case InitStepKind::bind_in_root: {
      struct stat source {};
      if (::stat(step.source, &source) != 0) init.fail("stat volume source", step.source + 1);
      int fd = open_in_root(init.root_fd, step.target, S_ISDIR(source.st_mode) ? Create::directory : Create::file);
      if (fd < 0) init.fail("create volume mount point", step.target);
      FdPath at(fd);
      if (::mount(step.source, at.text, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        StepText text;
        init.fail(text.add("bind ").add(step.source).add(" on /").add(step.target), errno);
      }
      ::close(fd);
      if (step.read_only) remount_read_only(init, step.target);
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
      const char* base = nullptr;
      int parent = open_parent_in_root(init.root_fd, step.target, &base);
      if (parent < 0) init.fail("open parent of", step.target);
      int rc = step.kind == InitStepKind::mknod_in_root ? ::mknodat(parent, base, step.mode, step.device)
                                                        : ::symlinkat(step.source, parent, base);
      if (rc != 0 && errno != EEXIST) init.fail("create", step.target);
      ::close(parent);
      return;
    }
    case InitStepKind::remount_root_ro:
      if (::mount(nullptr, init.plan.rootfs, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
        init.fail("remount the root read-only");
      }
      return;
  }
}

void pivot_into_root(const Init& init) {
  if (::chdir(init.plan.rootfs) != 0) init.fail("chdir to the new root");
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only the new.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) init.fail("pivot_root");
  if (::umount2(".", MNT_DETACH) != 0) init.fail("detach the old root");
  if (::chdir("/") != 0) init.fail("chdir /");
}

void send_pty_master(const Init& init, int master) {
  InitMessage message{};
  message.kind = InitMessageKind::pty_master;
  iovec data{&message, sizeof message};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr header{};
  header.msg_iov = &data;
  header.msg_iovlen = 1;
  header.msg_control = control;
  header.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &master, sizeof master);
  if (::sendmsg(init.plan.sync_fd, &header, MSG_NOSIGNAL) < 0) init.fail("send the terminal to mcore");
}

// Opens a terminal in the container's own devpts (so `tty` names /dev/pts/0), makes it the controlling
// terminal and stdio, and hands the master to mcore.
void set_up_terminal(const Init& init) {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) init.fail("open /dev/ptmx");
  int unlock = 0;
  unsigned number = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0 || ::ioctl(master, TIOCGPTN, &number) != 0) {
    init.fail("unlock the terminal");
  }
  char path[32] = "/dev/pts/";
  char digits[12];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + number % 10);
    number /= 10;
  } while (number > 0);
  int at = 9;
  while (n > 0) path[at++] = digits[--n];
  path[at] = '\0';
  int slave = ::open(path, O_RDWR | O_NOCTTY);
  if (slave < 0) init.fail("open the terminal", path + 1);
  send_pty_master(init, master);
  ::close(master);
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) init.fail("make the terminal controlling");
  for (int fd = 0; fd <= 2; ++fd) {
    if (::dup2(slave, fd) < 0) init.fail("attach the terminal");
  }
  if (slave > 2) ::close(slave);
}

void wait_for_go(const Init& init) {
  char go = 0;
  ssize_t n;
  do {
    n = ::read(init.plan.sync_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  // mcore died or gave up: never run the command unplaced.
  if (n != 1 || go != kInitGo) ::_exit(125);
}

// Reads a small file of the container (passwd, group) into `buffer`, NUL-terminated; nullptr when the
// file does not exist. Longer files are cut at the buffer's size.
const char* read_container_file(const Init& init, const char* path, char* buffer, std::size_t size) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return nullptr;
    init.fail("open", path + 1);
  }
  std::size_t used = 0;
  while (used + 1 < size) {
    ssize_t n = ::read(fd, buffer + used, size - 1 - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buffer[used] = '\0';
  return buffer;
}

// -u resolved against the container's own files, as runc does; fills in HOME when it was not given.
ResolvedUser resolve_credentials(Init& init) {
  static char passwd[1 << 18];
  static char groups[1 << 18];
  const char* passwd_text = read_container_file(init, "/etc/passwd", passwd, sizeof passwd);
  const char* group_text = read_container_file(init, "/etc/group", groups, sizeof groups);
  ResolvedUser user;
  switch (resolve_user(passwd_text, group_text, init.plan.user, init.plan.group, user)) {
    case UserLookupResult::ok:
      break;
    case UserLookupResult::user_not_found: {
      StepText text;
      init.fail(text.add("unable to find user ").add(init.plan.user).add(": no matching entries in passwd file"), 0);
    }
    case UserLookupResult::group_not_found: {
      StepText text;
      init.fail(text.add("unable to find group ").add(init.plan.group).add(": no matching entries in group file"), 0);
    }
  }
  if (init.plan.home_slot >= 0) {
    static char home[sizeof user.home + 5] = "HOME=";
    std::memcpy(home + 5, user.home, sizeof user.home);
    init.plan.envp[static_cast<std::size_t>(init.plan.home_slot)] = home;
  }
  return user;
}

void drop_privileges(const Init& init, const ResolvedUser& user) {
  const InitPlan& plan = init.plan;
  if (int rc = drop_bounding_set(plan.capabilities); rc != 0) {
    errno = rc;
    init.fail("drop capabilities from the bounding set");
  }
  if (plan.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) init.fail("set no_new_privs");
  // Without no_new_privs the kernel only accepts a filter from a CAP_SYS_ADMIN holder: load it while
  // still fully privileged. Docker's profile allows every call made after this point.
  if (int rc = install_seccomp(plan.seccomp); rc != 0) {
    errno = rc;
    init.fail("load the seccomp profile");
  }
  if (::setgroups(user.additional_count, user.additional_gids) != 0) init.fail("setgroups");
  if (::setresgid(user.gid, user.gid, user.gid) != 0) init.fail("setgid");
  if (user.uid != 0 && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) init.fail("keep capabilities");
  if (::setresuid(user.uid, user.uid, user.uid) != 0) init.fail("setuid");
  if (int rc = set_process_capabilities(plan.capabilities); rc != 0) {
    errno = rc;
    init.fail("set capabilities");
  }
}

void reset_signals() {
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal != SIGKILL && signal != SIGSTOP) ::signal(signal, SIG_DFL);
  }
}

// execvpe's search, done here because glibc's may allocate: the first hit in PATH wins; EACCES on one
// candidate is remembered but the search goes on, as the shell does.
[[noreturn]] void exec_command(const Init& init) {
  const InitPlan& plan = init.plan;
  const char* name = plan.argv[0];
  if (std::strchr(name, '/') != nullptr) {
    ::execve(name, plan.argv.data(), plan.envp.data());
    StepText text;
    init.fail(text.add(kExecStep), errno);
  }
  const char* path = plan.path_env != nullptr ? plan.path_env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  int error = ENOENT;
  char candidate[PATH_MAX];
  std::size_t name_length = std::strlen(name);
  while (true) {
    const char* end = std::strchr(path, ':');
    std::size_t dir_length = end != nullptr ? static_cast<std::size_t>(end - path) : std::strlen(path);
    if (dir_length + name_length + 2 <= sizeof candidate) {
      std::memcpy(candidate, path, dir_length);
      std::size_t at = dir_length;
      if (at == 0) candidate[at++] = '.';
      candidate[at++] = '/';
      std::memcpy(candidate + at, name, name_length + 1);
      ::execve(candidate, plan.argv.data(), plan.envp.data());
      if (errno == EACCES) {
        error = EACCES;
      } else if (errno != ENOENT && errno != ENOTDIR) {
        error = errno;
        break;
      }
    }
    if (end == nullptr) break;
    path = end + 1;
  }
  StepText text;
  init.fail(text.add(kExecStep), error);
}

}  // namespace

void run_container_init(InitPlan& plan) noexcept {
  Init init{plan};
  ::umask(0);
  // Nothing we mount may propagate back to the host.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) init.fail("make mounts private");

  bool root_opened = false;
  for (const InitStep& step : plan.steps) {
    if (step.kind != InitStepKind::mount_host && !root_opened) {
      init.root_fd = ::open(plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (init.root_fd < 0) init.fail("open the container root");
      root_opened = true;
    }
    apply_step(init, step);
  }
  pivot_into_root(init);
  ::close(init.root_fd);
  const ResolvedUser user = resolve_credentials(init);

  if (::setsid() < 0) init.fail("setsid");
  if (plan.tty) {
    set_up_terminal(init);
  } else if (plan.stdin_null) {
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || ::dup2(null, 0) < 0) init.fail("open /dev/null for stdin");
    ::close(null);
  }
  if (::sethostname(plan.hostname, std::strlen(plan.hostname)) != 0) init.fail("sethostname");

  wait_for_go(init);
  // After the barrier, so the namespace's root is the container's own cgroup.
  if (plan.new_cgroup_namespace && ::unshare(CLONE_NEWCGROUP) != 0) init.fail("unshare the cgroup namespace");
  if (::chdir(plan.working_dir) != 0) init.fail("chdir to the working directory", plan.working_dir + 1);

  drop_privileges(init, user);
  ::umask(022);
  reset_signals();
  // Only stdio and the close-on-exec sync socket may survive into the command.
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  exec_command(init);
}

}  // namespace mcore::engine
