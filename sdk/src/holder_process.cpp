#include "mcore/holder_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <string>

#include "mcore/atomic_file.hpp"
#include "mcore/error.hpp"

namespace mcore {
namespace {

std::string proc_path(pid_t pid, const std::string& leaf) {
  return "/proc/" + std::to_string(pid) + "/" + leaf;
}

// Replaces the command line the holder's memory still holds from the fork with `name`, and zeroes
// the environment: any user may read a process's command line (ps), and the first command's could
// carry a secret (-e PASS=...) for as long as the holder lives. Only system calls and plain loops:
// the caller may have threads.
void erase_command_line(const char* name) {
  char stat[1024];
  const int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  const ssize_t length = ::read(fd, stat, sizeof stat - 1);
  ::close(fd);
  if (length <= 0) return;
  // Fields 48 to 51 are arg_start, arg_end, env_start and env_end; the name (field 2) ends at the last ')'.
  ssize_t at = length - 1;
  while (at >= 0 && stat[at] != ')') --at;
  if (at < 0) return;
  unsigned long bounds[4] = {};
  int field = 2;
  for (ssize_t i = at + 1; i < length; ++i) {
    if (stat[i] == ' ') {
      ++field;
    } else if (field >= 48 && field <= 51 && stat[i] >= '0' && stat[i] <= '9') {
      bounds[field - 48] = bounds[field - 48] * 10 + static_cast<unsigned long>(stat[i] - '0');
    }
  }
  // The kernel keeps start <= end; a range that says otherwise is left alone.
  for (int range : {0, 2}) {
    if (bounds[range] != 0 && bounds[range + 1] > bounds[range]) {
      volatile char* byte = reinterpret_cast<char*>(bounds[range]);
      for (unsigned long i = 0; i < bounds[range + 1] - bounds[range]; ++i) byte[i] = 0;
    }
  }
  if (bounds[0] == 0 || bounds[1] <= bounds[0]) return;
  volatile char* arguments = reinterpret_cast<char*>(bounds[0]);
  for (unsigned long i = 0; name[i] != '\0' && i + 1 < bounds[1] - bounds[0]; ++i) arguments[i] = name[i];
}

// `starter` is a socket to the process that forks the holder. The holder sends one byte when `enter`
// succeeded, and the starter one back once the pid file names the holder. End-of-file instead means
// the starter died first: nobody could find the holder then, so it exits. Whatever the starter had
// open (its locks included) is closed before the first byte, so none of it outlives the start.
[[noreturn]] void hold(const char* name, const std::function<bool()>& enter, int starter) {
  ::setsid();  // no terminal's signals reach it
  if (!enter()) ::_exit(1);
  ::prctl(PR_SET_NAME, name, 0, 0, 0);
  erase_command_line(name);
  // Kept above stdio, which becomes /dev/null (a starter run with stdio closed has it there).
  starter = ::fcntl(starter, F_DUPFD_CLOEXEC, 3);
  if (starter < 0) ::_exit(1);
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) ::dup2(null, fd);
  if (starter > 3) ::syscall(SYS_close_range, 3U, static_cast<unsigned>(starter) - 1, 0U);
  ::syscall(SYS_close_range, static_cast<unsigned>(starter) + 1, ~0U, 0U);
  if (::chdir("/") != 0 || ::send(starter, "x", 1, MSG_NOSIGNAL) != 1) ::_exit(1);
  char byte = 0;
  ssize_t n;
  while ((n = ::recv(starter, &byte, 1, 0)) < 0 && errno == EINTR) {
  }
  if (n != 1) ::_exit(1);
  ::close(starter);
  for (;;) ::pause();
}

// Alive and not a zombie: a zombie's pidfd still takes signal 0, and its ns/user (from its
// credentials) still opens, but it keeps no namespace alive.
bool running(const Holder& holder) {
  if (::syscall(SYS_pidfd_send_signal, holder.pidfd.get(), 0, nullptr, 0) != 0) return false;
  std::ifstream in(proc_path(holder.pid, "stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z' &&
         stat[close + 2] != 'X';
}

}  // namespace

std::optional<RecordedProcess> find_recorded_process(
    const std::filesystem::path& pid_file, const std::function<bool(const std::string&)>& is_named) {
  std::ifstream in(pid_file);
  pid_t pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) return std::nullopt;
  // Read while the pidfd pins the process: a reused pid cannot slip in between.
  std::ifstream comm(proc_path(pid, "comm"));
  std::string found;
  if (!(comm >> found) || !is_named(found)) return std::nullopt;
  return RecordedProcess{pid, std::move(pidfd)};
}

std::optional<Holder> find_holder(const std::filesystem::path& pid_file, const char* name) {
  return find_recorded_process(pid_file, [name](const std::string& found) { return found == name; });
}

std::optional<pid_t> start_holder(const std::filesystem::path& pid_file, const char* name,
                                  const std::function<bool()>& enter) {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) return std::nullopt;
  UniqueFd ours(ends[0]), theirs(ends[1]);
  const pid_t holder = ::fork();
  if (holder < 0) return std::nullopt;
  if (holder == 0) {
    // Its copy of the starter's end would keep end-of-file from ever coming.
    ::close(ours.get());
    hold(name, enter, theirs.get());
  }
  theirs.reset();
  char ready = 0;
  if (::recv(ours.get(), &ready, 1, 0) == 1) {
    try {
      write_file_atomic(pid_file, std::to_string(holder) + "\n", {.mode = 0600, .sync_file = false});
      if (::send(ours.get(), "x", 1, MSG_NOSIGNAL) == 1) return holder;
      ::unlink(pid_file.c_str());
    } catch (const Error&) {
    }
  }
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  return std::nullopt;
}

UniqueFd open_holder_namespace(const Holder& holder, const char* kind) {
  UniqueFd ns(::open(proc_path(holder.pid, std::string("ns/") + kind).c_str(), O_RDONLY | O_CLOEXEC));
  // The pid named the holder if its pidfd still says it runs after the open.
  if (!ns || !running(holder)) return {};
  return ns;
}

void stop_holder(const std::filesystem::path& pid_file, const char* name) {
  if (auto holder = find_holder(pid_file, name)) {
    ::syscall(SYS_pidfd_send_signal, holder->pidfd.get(), SIGKILL, nullptr, 0);
  }
  ::unlink(pid_file.c_str());
}

}  // namespace mcore
