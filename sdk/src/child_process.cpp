#include "mcore/child_process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"
#include "mcore/unique_fd.hpp"

extern char** environ;

namespace mcore {
namespace {

// A memory file holding `bytes`, positioned at its start.
UniqueFd memory_file(const char* name, const std::string& bytes) {
  UniqueFd file(::memfd_create(name, MFD_CLOEXEC));
  if (!file) throw Error::from_errno(std::string("create a memory file for ") + name);
  if (!write_all(file.get(), bytes) || ::lseek(file.get(), 0, SEEK_SET) != 0) {
    throw Error::from_errno(std::string("fill the memory file for ") + name);
  }
  return file;
}

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

}  // namespace

ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options) {
  if (argv.empty()) throw Error("run_child: no program given");
  const std::string& program = argv.front();
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) throw Error::from_errno("create a pipe for " + program);
  UniqueFd out_read(ends[0]);
  UniqueFd out_write(ends[1]);
  // stderr goes to a memory file, read once the program is done, so neither stream can block the other.
  UniqueFd err_file = options.capture_stderr ? memory_file("child-stderr", "") : UniqueFd();
  UniqueFd in_file = options.input ? memory_file("child-stdin", *options.input) : UniqueFd();

  FileActions actions;
  if (in_file) {
    ::posix_spawn_file_actions_adddup2(actions.get(), in_file.get(), STDIN_FILENO);
  } else {
    ::posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  ::posix_spawn_file_actions_adddup2(actions.get(), out_write.get(), STDOUT_FILENO);
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
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, program.c_str(), actions.get(), nullptr, pointers.data(), environ);
  if (spawned != 0) throw Error("run " + program, spawned);
  out_write.reset();

  ChildResult result;
  result.out = read_to_end(out_read.get(), "the output of " + program);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (err_file) {
    ::lseek(err_file.get(), 0, SEEK_SET);
    result.err = read_to_end(err_file.get(), "the errors of " + program);
  }
  return result;
}

}  // namespace mcore
