#include "engine/container/container_processes.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "engine/util/file_util.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

bool in_cgroup(std::string_view content, std::string_view group) {
  while (!content.empty()) {
    const auto end = content.find('\n');
    std::string_view line = content.substr(0, end);
    content = end == std::string_view::npos ? std::string_view() : content.substr(end + 1);
    // hierarchy-id:controllers:path, the path itself may hold ':'.
    const auto first = line.find(':');
    const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view path = line.substr(second + 1);
    if (path.starts_with(group) && (path.size() == group.size() || path[group.size()] == '/')) return true;
  }
  return false;
}

std::vector<pid_t> container_processes(const ContainerRecord& record) {
  if (record.cgroup.empty() || record.cgroup == "/") {
    throw Error("container " + record.id.substr(0, 12) + " has no control group on record", 0,
                "restart the container so that its record names its group");
  }
  return processes_in_group(record.cgroup);
}

std::vector<pid_t> processes_in_group(std::string_view group) {
  std::vector<pid_t> pids;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    pid_t pid = 0;
    const auto [end, failed] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (failed != std::errc() || end != name.data() + name.size()) continue;
    std::string content;
    try {
      content = read_file(entry.path() / "cgroup");
    } catch (const Error&) {
      continue;  // the process exited while we looked
    }
    if (in_cgroup(content, group)) pids.push_back(pid);
  }
  if (error) throw Error("list /proc", error.value());
  std::sort(pids.begin(), pids.end());
  return pids;
}

}  // namespace mcore::engine
