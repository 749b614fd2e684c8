#include "engine/context/namespace_holder.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "engine/userns/rootless_id_map.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"
#include "mcore/holder_process.hpp"

namespace mcore::engine {
namespace {

// The holder's name in ps and /proc/PID/comm.
constexpr const char* kHolderName = "mcore-userns";

std::optional<IdMap> process_map(pid_t pid, const char* which) {
  try {
    return parse_proc_id_map(read_file("/proc/" + std::to_string(pid) + "/" + which));
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace

UniqueFd held_user_namespace(const std::filesystem::path& pid_file, const IdMap& uid_map,
                             const IdMap& gid_map) {
  auto holder = find_holder(pid_file, kHolderName);
  if (!holder) return {};
  UniqueFd user = open_holder_namespace(*holder, "user");
  if (!user) return {};
  if (process_map(holder->pid, "uid_map") != uid_map || process_map(holder->pid, "gid_map") != gid_map) {
    // Maps from before a change of /etc/subuid: running containers keep their own namespaces.
    ::syscall(SYS_pidfd_send_signal, holder->pidfd.get(), SIGKILL, nullptr, 0);
    return {};
  }
  return user;
}

bool start_namespace_holder(pid_t member, const std::filesystem::path& pid_file) {
  const std::string path = "/proc/" + std::to_string(member) + "/ns/user";
  return start_holder(pid_file, kHolderName,
                      [&path] {
                        const int user = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
                        return user >= 0 && ::setns(user, CLONE_NEWUSER) == 0;
                      })
      .has_value();
}

}  // namespace mcore::engine
