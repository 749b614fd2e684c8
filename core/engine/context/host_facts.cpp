#include "engine/context/host_facts.hpp"

#include <linux/magic.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace mcore::engine {

namespace {

bool is_cgroup2(const char* path) {
  struct statfs info {};
  return ::statfs(path, &info) == 0 && info.f_type == CGROUP2_SUPER_MAGIC;
}

// True when a line of `path` satisfies `match`; false when the file cannot be read (a probe, not a check).
template <class Match>
bool any_line(const char* path, Match match) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (match(line)) return true;
  }
  return false;
}

}  // namespace

CgroupMode probe_cgroup_mode() {
  if (is_cgroup2("/sys/fs/cgroup")) return CgroupMode::v2;
  if (is_cgroup2("/sys/fs/cgroup/unified")) return CgroupMode::hybrid;
  return CgroupMode::v1;
}

bool probe_cgroup_namespace() {
  std::error_code ignored;
  return std::filesystem::exists("/proc/self/ns/cgroup", ignored);
}

std::optional<std::string> probe_delegated_cgroup() {
  if (probe_cgroup_mode() != CgroupMode::v2) return std::nullopt;
  std::ifstream own("/proc/self/cgroup");
  std::string line;
  // v2 has one line, "0::/user.slice/user-1000.slice/...".
  if (!std::getline(own, line) || !line.starts_with("0::/")) return std::nullopt;
  const std::string path = line.substr(3);
  const std::size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string::npos) return std::nullopt;  // the root is no one's to delegate
  const std::string parent = path.substr(0, slash);
  const std::string dir = "/sys/fs/cgroup" + parent;
  for (const std::string& file : {dir, dir + "/cgroup.procs", dir + "/cgroup.subtree_control"}) {
    if (::access(file.c_str(), W_OK) != 0) return std::nullopt;
  }
  return parent;
}

std::vector<CgroupHierarchy> host_cgroup_hierarchies() {
  std::vector<CgroupHierarchy> found;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  constexpr std::string_view kBase = "/sys/fs/cgroup";
  while (std::getline(mountinfo, line)) {
    // "36 25 0:31 / /sys/fs/cgroup/memory rw,nosuid shared:15 - cgroup cgroup rw,memory"
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point, field;
    fields >> id >> parent >> device >> root >> mount_point;
    while (fields >> field && field != "-") {
    }
    std::string fstype, source, options;
    fields >> fstype >> source >> options;
    if ((fstype != "cgroup" && fstype != "cgroup2") || !mount_point.starts_with(kBase)) continue;
    std::string name = mount_point.substr(kBase.size());
    if (!name.empty() && name.front() == '/') name.erase(0, 1);
    if (name.find('/') != std::string::npos) continue;
    std::string kept;
    for (std::size_t at = 0; at < options.size();) {
      const std::size_t end = std::min(options.find(',', at), options.size());
      const std::string option = options.substr(at, end - at);
      if (option != "rw" && option != "ro") kept += (kept.empty() ? "" : ",") + option;
      at = end + 1;
    }
    found.push_back({name, fstype, kept});
  }
  return found;
}

HostFacts probe_host() {
  HostFacts facts;
  struct utsname names {};
  if (::uname(&names) == 0) facts.kernel_release = names.release;
  facts.cgroup_mode = probe_cgroup_mode();
  // Lines read "nodev\toverlay" or "\text4": the name is the last field.
  facts.overlay_supported = any_line("/proc/filesystems", [](const std::string& line) {
    std::istringstream fields(line);
    std::string field, last;
    while (fields >> field) last = field;
    return last == "overlay";
  });
  facts.cgroup_namespace = probe_cgroup_namespace();
  facts.seccomp_supported =
      any_line("/proc/self/status", [](const std::string& line) { return line.starts_with("Seccomp:"); });
  return facts;
}

const char* to_string(CgroupMode mode) {
  switch (mode) {
    case CgroupMode::v1: return "v1";
    case CgroupMode::hybrid: return "hybrid";
    case CgroupMode::v2: return "v2";
  }
  return "unknown";
}

}  // namespace mcore::engine
