#include "engine/context/rootless_namespace.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "engine/context/namespace_holder.hpp"
#include "engine/userns/rootless_id_map.hpp"
#include "engine/userns/subordinate_ids.hpp"
#include "engine/util/file_util.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"
#include "mcore/unique_fd.hpp"

extern char** environ;

namespace mcore::engine {
namespace {

// Set by enter_rootless_namespace; the helpers mcore starts inherit it (a container's process does
// not: its environment is the image's and the user's -e).
constexpr const char* kMarker = "MCORE_ROOTLESS_NAMESPACE";

std::string file_text(const char* path) {
  try {
    return read_file(path);
  } catch (const Error& error) {
    if (error.error_number() == ENOENT) return "";
    throw;
  }
}

IdMap maps_for(std::uint32_t own_id, const std::string& user_name, std::uint32_t uid, const char* file,
               const char* usermod_flag) {
  const std::vector<IdRange> ranges = subordinate_ranges(file_text(file), user_name, uid);
  if (ranges.empty()) {
    throw Error("rootless mcore: user " + user_name + " has no subordinate ids in " + file, 0,
                "as root, give the user a range: usermod " + std::string(usermod_flag) + " 100000-165535 " +
                    user_name + " (see subuid(5))");
  }
  return rootless_id_map(own_id, ranges);
}

// The helper's path, found as execvp would; nullopt when no directory of $PATH has it.
std::optional<std::string> find_program(const std::string& name) {
  const char* env = std::getenv("PATH");
  std::string_view rest = env != nullptr && *env != '\0' ? env : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = rest.find(':');
    const std::string dir(rest.substr(0, colon));
    const std::string path = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
    if (colon == std::string_view::npos) return std::nullopt;
    rest = rest.substr(colon + 1);
  }
}

std::vector<std::string> helper_arguments(const std::string& program, pid_t target, const IdMap& map) {
  std::vector<std::string> arguments = {program, std::to_string(target)};
  for (const IdMapEntry& entry : map) {
    for (std::uint32_t number : {entry.container_id, entry.host_id, entry.size})
      arguments.push_back(std::to_string(number));
  }
  return arguments;
}

// In the helper child: runs one map writer, returns whether it succeeded.
bool run_helper(const std::vector<std::string>& arguments) {
  std::vector<char*> argv;
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return false;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

IdMap own_map(const char* path) {
  try {
    return parse_proc_id_map(read_file(path));
  } catch (Error& error) {
    error.add_context(std::string("read ") + path);
    throw;
  }
}

// Joins the namespace a holder keeps, with a mount namespace of its own there; false when no holder
// serves `maps` or the join failed (the process is where it was then).
bool join_held_namespace(const std::filesystem::path& pid_file, const RootlessMaps& maps) {
  UniqueFd user = held_user_namespace(pid_file, maps.uid_map, maps.gid_map);
  if (!user || ::setns(user.get(), CLONE_NEWUSER) != 0) return false;
  if (::unshare(CLONE_NEWNS) != 0) throw Error::from_errno("rootless mcore: create a mount namespace");
  ::setenv(kMarker, "1", 1);
  return true;
}

}  // namespace

RootlessMaps rootless_maps(std::uint32_t uid, std::uint32_t gid, const std::string& user_name) {
  return {maps_for(uid, user_name, uid, "/etc/subuid", "--add-subuids"),
          maps_for(gid, user_name, uid, "/etc/subgid", "--add-subgids")};
}

void enter_rootless_namespace(const RootlessMaps& maps, const std::filesystem::path& state_root) {
  const std::filesystem::path holder_pid_file = state_root / "userns.pid";
  // No lock for a join: the opened namespace stays valid whatever its holder does next.
  if (join_held_namespace(holder_pid_file, maps)) return;
  std::vector<std::vector<std::string>> helpers;
  for (const auto& [name, map] :
       {std::pair{"newuidmap", &maps.uid_map}, std::pair{"newgidmap", &maps.gid_map}}) {
    const auto path = find_program(name);
    if (!path) {
      throw Error(std::string("rootless mcore needs ") + name + ", which is not on $PATH", ENOENT,
                  "install it (as root: apt-get install uidmap)");
    }
    helpers.push_back(helper_arguments(*path, ::getpid(), *map));
  }
  // As the user, before the namespace: the lock that keeps two commands from starting two holders.
  ensure_private_directory(state_root);
  FileLock held(state_root / "userns.lock");
  if (join_held_namespace(holder_pid_file, maps)) return;  // another command made it meanwhile
  // The helpers are setuid root: they must run from outside the new namespace, which does not map
  // root. So a child forked now waits until this process has unshared, then runs them on it.
  UniqueFd go_read, go_write, said_read, said_write;
  {
    int go[2], said[2];
    if (::pipe2(go, O_CLOEXEC) != 0) throw Error::from_errno("create a pipe");
    go_read.reset(go[0]);
    go_write.reset(go[1]);
    if (::pipe2(said, O_CLOEXEC) != 0) throw Error::from_errno("create a pipe");
    said_read.reset(said[0]);
    said_write.reset(said[1]);
  }
  const pid_t member = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) throw Error::from_errno("fork the id map helper");
  if (child == 0) {
    // Only the parent may hold the go pipe's writing end: should it fail, the child reads end-of-file.
    go_write.reset();
    said_read.reset();
    ::dup2(said_write.get(), STDERR_FILENO);  // what the helpers say goes into the error
    char go = 0;
    if (::read(go_read.get(), &go, 1) != 1) ::_exit(1);  // the parent gave up
    for (const auto& arguments : helpers) {
      if (!run_helper(arguments)) ::_exit(1);
    }
    start_namespace_holder(member, holder_pid_file);
    ::_exit(0);
  }
  go_read.reset();
  said_write.reset();
  const int unshared = ::unshare(CLONE_NEWUSER | CLONE_NEWNS);
  const int unshare_errno = errno;
  if (unshared == 0 && ::write(go_write.get(), "x", 1) != 1) {
    // Without the go, the child exits at end-of-file below.
  }
  go_write.reset();
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  std::string said;
  char buffer[512];
  for (ssize_t n; (n = ::read(said_read.get(), buffer, sizeof buffer)) > 0;) said.append(buffer, n);
  while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
  if (unshared != 0) {
    throw Error(
        "rootless mcore: create a user namespace", unshare_errno,
        "check that unprivileged user namespaces are allowed (sysctl kernel.unprivileged_userns_clone "
        "and user.max_user_namespaces)");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error(
        "rootless mcore: newuidmap or newgidmap could not write the id maps" +
            (said.empty() ? std::string() : " (" + said + ")"),
        0, "check the user's lines in /etc/subuid and /etc/subgid, and that both helpers are setuid root");
  }
  ::setenv(kMarker, "1", 1);
}

void join_rootless_namespace_of(pid_t init_pid, int init_pidfd) {
  const std::string path = "/proc/" + std::to_string(init_pid) + "/ns/user";
  UniqueFd own(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  // The pid named the init if its pidfd still says it lives after the open.
  if (!own || ::syscall(SYS_pidfd_send_signal, init_pidfd, 0, nullptr, 0) != 0) {
    throw Error::from_errno("open the container's user namespace", "the container stopped meanwhile");
  }
  UniqueFd parent(::ioctl(own.get(), NS_GET_PARENT));
  if (!parent)
    throw Error::from_errno("find the user namespace the container was started in (NS_GET_PARENT)");
  if (::setns(parent.get(), CLONE_NEWUSER) != 0 || ::unshare(CLONE_NEWNS) != 0) {
    throw Error::from_errno("join the user namespace the container was started in",
                            "only the user who started the container may exec in it");
  }
  ::setenv(kMarker, "1", 1);
}

std::optional<std::uint32_t> rootless_namespace_owner() {
  const char* marker = std::getenv(kMarker);
  if (marker == nullptr || std::string_view(marker) != "1") return std::nullopt;
  const IdMap map = own_uid_map();
  // The initial namespace maps 0 to itself; rootless mcore's maps 0 to the user.
  if (map.empty() || map.front().container_id != 0 || map.front().host_id == 0) return std::nullopt;
  return map.front().host_id;
}

IdMap own_uid_map() { return own_map("/proc/self/uid_map"); }
IdMap own_gid_map() { return own_map("/proc/self/gid_map"); }

}  // namespace mcore::engine
