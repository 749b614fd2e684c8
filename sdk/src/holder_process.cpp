#include "mcore/holder_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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
  for (int range : {0, 2}) {
    if (bounds[range] != 0 && bounds[range + 1] > bounds[range]) {
      volatile char* byte = reinterpret_cast<char*>(bounds[range]);
      for (unsigned long i = 0; i < bounds[range + 1] - bounds[range]; ++i) byte[i] = 0;
    }
  }
  volatile char* arguments = reinterpret_cast<char*>(bounds[0]);
  for (unsigned long i = 0; bounds[0] != 0 && name[i] != '\0' && i + 1 < bounds[1] - bounds[0]; ++i)
    arguments[i] = name[i];
}

[[noreturn]] void hold(const char* name, const std::function<bool()>& enter, int ready) {
  ::setsid();  // no terminal's signals reach it
  if (!enter()) ::_exit(1);
  ::prctl(PR_SET_NAME, name, 0, 0, 0);
  erase_command_line(name);
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) ::dup2(null, fd);
  if (::chdir("/") != 0 || ::write(ready, "x", 1) != 1) ::_exit(1);
  // Whatever the caller had open (its locks included) is not the holder's to keep.
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
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

std::optional<Holder> find_holder(const std::filesystem::path& pid_file, const char* name) {
  std::ifstream in(pid_file);
  pid_t pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) return std::nullopt;
  // Read while the pidfd pins the process: a reused pid cannot slip in between.
  std::ifstream comm(proc_path(pid, "comm"));
  std::string found;
  if (!(comm >> found) || found != name) return std::nullopt;
  return Holder{pid, std::move(pidfd)};
}

std::optional<pid_t> start_holder(const std::filesystem::path& pid_file, const char* name,
                                  const std::function<bool()>& enter) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return std::nullopt;
  UniqueFd ready_read(ends[0]), ready_write(ends[1]);
  const pid_t holder = ::fork();
  if (holder < 0) return std::nullopt;
  if (holder == 0) hold(name, enter, ready_write.get());
  ready_write.reset();
  char ready = 0;
  if (::read(ready_read.get(), &ready, 1) == 1) {
    try {
      write_file_atomic(pid_file, std::to_string(holder) + "\n", {.mode = 0600, .sync_file = false});
      return holder;
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
