#include "mcore/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"
#include "mcore/unique_fd.hpp"

extern char** environ;

namespace mcore {
namespace {

// posix_spawn's file actions, destroyed with the scope.
class FileActions {
 public:
  FileActions() { ::posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { ::posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

// Waits for `pid` at most `timeout` (forever without one); kills it when that passes. Returns its status.
int wait_for(pid_t pid, const std::optional<std::chrono::milliseconds>& timeout, bool& timed_out) {
  if (timeout) {
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U)));
    if (pidfd) {
      const auto deadline = std::chrono::steady_clock::now() + *timeout;
      pollfd exited{pidfd.get(), POLLIN, 0};
      for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        const int ready = left.count() > 0 ? ::poll(&exited, 1, static_cast<int>(left.count())) : 0;
        if (ready > 0) break;
        if (ready == 0) {
          ::kill(pid, SIGKILL);
          timed_out = true;
          break;
        }
        if (errno != EINTR) break;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options) {
  if (argv.empty()) throw Error("run_child: no program given");
  const std::string& program = options.executable ? *options.executable : argv.front();
  // Both streams go to memory files, read once the program is done: neither can block the other, and
  // a daemon the program leaves behind holding them open cannot hold us up.
  UniqueFd out_file = memory_file("child-stdout", "");
  UniqueFd err_file = options.capture_stderr ? memory_file("child-stderr", "") : UniqueFd();
  UniqueFd in_file = options.input ? memory_file("child-stdin", *options.input) : UniqueFd();

  FileActions actions;
  if (in_file) {
    ::posix_spawn_file_actions_adddup2(actions.get(), in_file.get(), STDIN_FILENO);
  } else {
    ::posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  ::posix_spawn_file_actions_adddup2(actions.get(), out_file.get(), STDOUT_FILENO);
  if (err_file) {
    ::posix_spawn_file_actions_adddup2(actions.get(), err_file.get(), STDERR_FILENO);
  } else {
    ::posix_spawn_file_actions_addopen(actions.get(), STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  }
  // Whatever mcore itself inherited without O_CLOEXEC stays out of the program too.
  ::posix_spawn_file_actions_addclosefrom_np(actions.get(), STDERR_FILENO + 1);
  std::vector<char*> pointers;
  for (const auto& word : argv) pointers.push_back(const_cast<char*>(word.c_str()));
  pointers.push_back(nullptr);
  std::vector<char*> environment;
  if (options.environment) {
    for (const auto& entry : *options.environment) environment.push_back(const_cast<char*>(entry.c_str()));
    environment.push_back(nullptr);
  }
  char** envp = options.environment ? environment.data() : environ;
  pid_t pid = 0;
  const int spawned = options.executable
                          ? ::posix_spawn(&pid, program.c_str(), actions.get(), nullptr, pointers.data(), envp)
                          : ::posix_spawnp(&pid, program.c_str(), actions.get(), nullptr, pointers.data(), envp);
  if (spawned != 0) throw Error("run " + program, spawned);

  ChildResult result;
  const int status = wait_for(pid, options.timeout, result.timed_out);
  ::lseek(out_file.get(), 0, SEEK_SET);
  result.out = read_to_end(out_file.get(), "the output of " + program);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (err_file) {
    ::lseek(err_file.get(), 0, SEEK_SET);
    result.err = read_to_end(err_file.get(), "the errors of " + program);
  }
  return result;
}

}  // namespace mcore
