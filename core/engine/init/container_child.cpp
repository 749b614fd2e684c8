#include "engine/init/container_child.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "engine/io/fd_passing.hpp"
#include "engine/init/init_protocol.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace mcore::engine {

void ContainerChild::fail(const StepText& step, int error_number) const noexcept {
  InitMessage message{};
  message.kind = InitMessageKind::failure;
  message.error_number = error_number;
  std::memcpy(message.step, step.c_str(), sizeof message.step - 1);
  ::send(plan.sync_fd, &message, sizeof message, MSG_NOSIGNAL);
  ::_exit(125);
}

void ContainerChild::fail(const char* step, const char* target) const noexcept {
  int saved = errno;
  StepText text;
  text.add(step);
  if (target != nullptr) text.add(" /").add(target);
  fail(text, saved);
}

namespace {

void send_pty_master(const ContainerChild& child, int master) {
  InitMessage message{};
  message.kind = InitMessageKind::pty_master;
  if (!send_message(child.plan.sync_fd, &message, sizeof message, master)) child.fail("send the terminal to mcore");
}

// Opens a terminal in the container's own devpts (so `tty` names /dev/pts/N), makes it the controlling
// terminal and stdio, and hands the master to mcore.
void set_up_terminal(const ContainerChild& child) {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) child.fail("open /dev/ptmx");
  int unlock = 0;
  unsigned number = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0 || ::ioctl(master, TIOCGPTN, &number) != 0) {
    child.fail("unlock the terminal");
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
  if (slave < 0) child.fail("open the terminal", path + 1);
  send_pty_master(child, master);
  ::close(master);
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) child.fail("make the terminal controlling");
  for (int fd = 0; fd <= 2; ++fd) {
    if (::dup2(slave, fd) < 0) child.fail("attach the terminal");
  }
  if (slave > 2) ::close(slave);
}

// Reads a small file of the container (passwd, group) into `buffer`, NUL-terminated; nullptr when the
// file does not exist. Longer files are cut at the buffer's size. The container controls the file:
// a FIFO or a device there must not make mcore block, so only a regular file is read.
const char* read_container_file(const ContainerChild& child, const char* path, char* buffer, std::size_t size) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return nullptr;
    child.fail("open", path + 1);
  }
  struct stat status {};
  if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    errno = EINVAL;
    child.fail("read (not a regular file)", path + 1);
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

}  // namespace

ResolvedUser resolve_credentials(const ContainerChild& child) noexcept {
  static char passwd[1 << 18];
  static char groups[1 << 18];
  InitPlan& plan = child.plan;
  const char* passwd_text = read_container_file(child, "/etc/passwd", passwd, sizeof passwd);
  const char* group_text = read_container_file(child, "/etc/group", groups, sizeof groups);
  ResolvedUser user;
  switch (resolve_user(passwd_text, group_text, plan.user, plan.group, user)) {
    case UserLookupResult::ok:
      break;
    case UserLookupResult::user_not_found: {
      StepText text;
      child.fail(text.add("unable to find user ").add(plan.user).add(": no matching entries in passwd file"), 0);
    }
    case UserLookupResult::group_not_found: {
      StepText text;
      child.fail(text.add("unable to find group ").add(plan.group).add(": no matching entries in group file"), 0);
    }
  }
  if (plan.explicit_groups) {
    if (plan.additional_gids.size() > kMaxAdditionalGroups) {
      errno = E2BIG;
      child.fail("set the additional groups (too many)");
    }
    user.additional_count = plan.additional_gids.size();
    for (std::size_t i = 0; i < user.additional_count; ++i) user.additional_gids[i] = plan.additional_gids[i];
  }
  if (plan.home_slot >= 0) {
    static char home[sizeof user.home + 5] = "HOME=";
    std::memcpy(home + 5, user.home, sizeof user.home);
    plan.envp[static_cast<std::size_t>(plan.home_slot)] = home;
  }
  return user;
}

void attach_stdio(const ContainerChild& child) noexcept {
  const InitPlan& plan = child.plan;
  for (int fd = 0; fd <= 2; ++fd) {
    if (plan.stdio[fd] >= 0 && ::dup2(plan.stdio[fd], fd) < 0) child.fail("attach the output pipes");
  }
  if (!plan.tty && plan.stdin_null) {
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || ::dup2(null, 0) < 0) child.fail("open /dev/null for stdin");
    ::close(null);
  }
}

void start_session(const ContainerChild& child) noexcept {
  if (::setsid() < 0) child.fail("setsid");
  if (child.plan.tty) set_up_terminal(child);
}

void stay_undumpable(const ContainerChild& child) noexcept {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) child.fail("make the process non-dumpable");
}

void wait_for_go(const ContainerChild& child) noexcept {
  char go = 0;
  ssize_t n;
  do {
    n = ::read(child.plan.sync_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1 || go != kInitGo) ::_exit(125);
}

void drop_privileges(const ContainerChild& child, const ResolvedUser& user) noexcept {
  const InitPlan& plan = child.plan;
  if (int rc = drop_bounding_set(plan.bounding.value_or(plan.capabilities)); rc != 0) {
    errno = rc;
    child.fail("drop capabilities from the bounding set");
  }
  if (plan.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child.fail("set no_new_privs");
  // Without no_new_privs the kernel only accepts a filter from a CAP_SYS_ADMIN holder: load it while
  // still fully privileged. Docker's profile allows every call made after this point.
  if (int rc = install_seccomp(plan.seccomp); rc != 0) {
    errno = rc;
    child.fail("load the seccomp profile");
  }
  if (::setgroups(user.additional_count, user.additional_gids) != 0) child.fail("setgroups");
  if (::setresgid(user.gid, user.gid, user.gid) != 0) child.fail("setgid");
  if (user.uid != 0 && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) child.fail("keep capabilities");
  if (::setresuid(user.uid, user.uid, user.uid) != 0) child.fail("setuid");
  if (int rc = set_process_capabilities(plan.capabilities); rc != 0) {
    errno = rc;
    child.fail("set capabilities");
  }
}

void apply_rlimits(const ContainerChild& child) noexcept {
  for (const auto& limit : child.plan.rlimits) {
    const rlimit value{limit.soft, limit.hard};
    if (::setrlimit(static_cast<__rlimit_resource>(limit.resource), &value) != 0) child.fail("set an rlimit");
  }
}

void reset_signals() noexcept {
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal != SIGKILL && signal != SIGSTOP) ::signal(signal, SIG_DFL);
  }
}

namespace {

// execvpe's search, done here because glibc's may allocate: `attempt` is called with argv[0] itself when
// it holds a slash, else with each PATH candidate in order, and returns only when the candidate failed
// (errno set). The first that succeeds wins; EACCES on one candidate is remembered but the search goes
// on, as the shell does. Returns the errno to report when none did.
template <class Attempt>
int search_command(const InitPlan& plan, Attempt attempt) {
  const char* name = plan.argv[0];
  if (std::strchr(name, '/') != nullptr) {
    attempt(name);
    return errno;
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
      attempt(candidate);
      if (errno == EACCES) {
        error = EACCES;
      } else if (errno != ENOENT && errno != ENOTDIR) {
        return errno;
      }
    }
    if (end == nullptr) break;
    path = end + 1;
  }
  return error;
}

}  // namespace

void check_command(const ContainerChild& child) noexcept {
  bool found = false;
  const int error = search_command(child.plan, [&found](const char* candidate) {
    struct stat status {};
    if (found) return;
    if (::stat(candidate, &status) != 0) return;
    if (!S_ISREG(status.st_mode) || ::access(candidate, X_OK) != 0) {
      errno = EACCES;
      return;
    }
    found = true;
  });
  if (found) return;
  StepText text;
  child.fail(text.add(kExecStep), error);
}

void exec_command(const ContainerChild& child) noexcept {
  const InitPlan& plan = child.plan;
  // Only stdio (and the descriptors mcore-oci was asked to preserve) may survive into the command.
  const unsigned first_closed = 3U + static_cast<unsigned>(plan.preserve_fds);
  for (int fd = 3; fd < static_cast<int>(first_closed); ++fd) {
    if (::fcntl(fd, F_SETFD, 0) != 0) child.fail("keep a preserved descriptor");
  }
  ::syscall(SYS_close_range, first_closed, ~0U, CLOSE_RANGE_CLOEXEC);
  const int error = search_command(plan, [&plan](const char* candidate) {
    ::execve(candidate, plan.argv.data(), plan.envp.data());
  });
  StepText text;
  child.fail(text.add(kExecStep), error);
}

}  // namespace mcore::engine
