#include "engine/container/container_liveness.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "engine/util/file_util.hpp"
#include "mcore/error.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {

// Docker reports 255 for a container whose exit nobody saw.
constexpr int kExitCodeLost = 255;

ContainerRuntimePaths runtime_paths(const Config& config, const std::string& id) {
  ContainerRuntimePaths paths;
  paths.dir = config.state_root / "containers" / id;
  paths.supervisor_lock = paths.dir / "supervisor.lock";
  paths.socket = paths.dir / "supervisor.sock";
  paths.exit_file = paths.dir / "exit";
  return paths;
}

bool supervisor_alive(const ContainerRuntimePaths& paths) {
  UniqueFd fd(::open(paths.supervisor_lock.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  struct flock query {};
  query.l_type = F_WRLCK;
  query.l_whence = SEEK_SET;
  if (::fcntl(fd.get(), F_OFD_GETLK, &query) != 0) return false;
  return query.l_type != F_UNLCK;
}

std::optional<ExitReport> read_exit_report(const ContainerRuntimePaths& paths) {
  std::string text;
  try {
    text = read_file(paths.exit_file);
  } catch (const Error&) {
    return std::nullopt;
  }
  std::istringstream in(text);
  ExitReport report;
  if (!(in >> report.exit_code >> report.finished_at)) return std::nullopt;
  return report;
}

ContainerRecord observe_container(const Config& config, ContainerRecord record) {
  const bool claims_life = record.state == ContainerState::running || record.state == ContainerState::paused ||
                           record.state == ContainerState::restarting;
  if (!claims_life) return record;
  const ContainerRuntimePaths paths = runtime_paths(config, record.id);
  if (supervisor_alive(paths)) {
    // The command may have exited while its supervisor is still recording that.
    if (auto exit = read_exit_report(paths); exit && record.state != ContainerState::restarting) {
      record.state = ContainerState::exited;
      record.exit_code = exit->exit_code;
      record.finished_at = exit->finished_at;
      record.pid = 0;
    }
    return record;
  }
  record.state = ContainerState::exited;
  record.pid = 0;
  if (auto exit = read_exit_report(paths)) {
    record.exit_code = exit->exit_code;
    record.finished_at = exit->finished_at;
  } else {
    record.exit_code = kExitCodeLost;
    if (record.finished_at.empty() || record.finished_at < record.started_at) record.finished_at = record.started_at;
  }
  return record;
}

}  // namespace mcore::engine
