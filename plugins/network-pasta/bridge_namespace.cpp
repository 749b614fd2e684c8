#include "bridge_namespace.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include <string>
#include <system_error>

#include "exclusive_lock.hpp"
#include "mcore/error.hpp"
#include "mcore/holder_process.hpp"

namespace mcore::pasta {
namespace {

namespace fs = std::filesystem;

constexpr const char* kHolderName = "mcore-netns";

bool same_namespace(const std::string& a, const std::string& b) {
  struct stat first {
  }, second{};
  return ::stat(a.c_str(), &first) == 0 && ::stat(b.c_str(), &second) == 0 && first.st_dev == second.st_dev &&
         first.st_ino == second.st_ino;
}

}  // namespace

BridgeNamespace::BridgeNamespace(fs::path state_dir) : state_dir_(std::move(state_dir)) {}

fs::path BridgeNamespace::pid_file() const { return state_dir_ / "bridges.pid"; }

UniqueFd BridgeNamespace::open_existing() const {
  auto holder = find_holder(pid_file(), kHolderName);
  if (!holder) return {};
  if (!same_namespace("/proc/" + std::to_string(holder->pid) + "/ns/user", "/proc/self/ns/user")) return {};
  return open_holder_namespace(*holder, "net");
}

UniqueFd BridgeNamespace::open_or_create() const {
  if (UniqueFd found = open_existing()) return found;
  std::error_code error;
  fs::create_directories(state_dir_, error);
  if (error) throw Error("create " + state_dir_.string(), error.value());
  bridge::ExclusiveLock held(state_dir_ / "bridges.lock");
  if (UniqueFd found = open_existing()) return found;  // another command made it meanwhile
  // One in another user namespace is left alone: the containers on its bridges still use them.
  const auto holder = start_holder(pid_file(), kHolderName, [] { return ::unshare(CLONE_NEWNET) == 0; });
  if (holder) {
    if (UniqueFd made = open_existing()) return made;
  }
  throw Error("the pasta driver could not make the network namespace for its networks' bridges", 0,
              "check that this user may create network namespaces (user.max_net_namespaces)");
}

void BridgeNamespace::stop() const { stop_holder(pid_file(), kHolderName); }

}  // namespace mcore::pasta
