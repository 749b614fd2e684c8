#include "cgroup_paths.hpp"

#include <algorithm>
#include <cerrno>

#include "cgroup_files.hpp"
#include "mcore/config_section.hpp"
#include "mcore/error.hpp"

namespace mcore::cgroup {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  for (;;) {
    auto end = text.find(separator, pos);
    parts.emplace_back(text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    if (end == std::string_view::npos) return parts;
    pos = end + 1;
  }
}

// mountinfo writes space, tab, newline and backslash in paths as \ooo.
std::string unescape_octal(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto octal = [&](std::size_t at) { return text[at] >= '0' && text[at] <= '7'; };
    if (text[i] == '\\' && i + 3 < text.size() && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0'));
      i += 3;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// The directory of hierarchy path `path` under the mount, which may show only a subtree (`root`).
fs::path directory_of(const Hierarchy& hierarchy, const std::string& path) {
  std::string_view rest = path;
  const std::string& root = hierarchy.mount.root;
  if (root != "/" && rest.starts_with(root) && (rest.size() == root.size() || rest[root.size()] == '/')) {
    rest.remove_prefix(root.size());
  }
  while (rest.starts_with('/')) rest.remove_prefix(1);
  return rest.empty() ? hierarchy.mount.mount_point : hierarchy.mount.mount_point / rest;
}

}  // namespace

std::vector<ProcCgroup> parse_proc_cgroup(std::string_view content) {
  std::vector<ProcCgroup> groups;
  for (const auto& line : split(content, '\n')) {
    // hierarchy-id:controllers:path; the path itself may contain ':'.
    auto first = line.find(':');
    if (first == std::string::npos) continue;
    auto second = line.find(':', first + 1);
    if (second == std::string::npos) continue;
    ProcCgroup group;
    std::string controllers = line.substr(first + 1, second - first - 1);
    if (!controllers.empty()) group.controllers = split(controllers, ',');
    group.path = line.substr(second + 1);
    groups.push_back(std::move(group));
  }
  return groups;
}

std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo) {
  std::vector<CgroupMount> mounts;
  for (const auto& line : split(mountinfo, '\n')) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    auto fields = split_words(line);
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) continue;
    const std::string& type = dash[1];
    if (type != "cgroup" && type != "cgroup2") continue;
    CgroupMount mount;
    mount.root = unescape_octal(fields[3]);
    mount.mount_point = unescape_octal(fields[4]);
    mount.v2 = type == "cgroup2";
    mount.options = split(dash[3], ',');
    mounts.push_back(std::move(mount));
  }
  return mounts;
}

SelfCgroups read_self_cgroups() {
  return {parse_cgroup_mounts(read_file("/proc/self/mountinfo")),
          parse_proc_cgroup(read_file("/proc/self/cgroup"))};
}

std::optional<Hierarchy> find_v1_hierarchy(const SelfCgroups& self, std::string_view controller) {
  auto group = std::find_if(self.groups.begin(), self.groups.end(),
                            [&](const ProcCgroup& g) { return contains(g.controllers, controller); });
  if (group == self.groups.end()) return std::nullopt;
  // The same hierarchy may be mounted more than once; prefer a mount that shows our own group.
  std::optional<Hierarchy> found;
  for (const auto& mount : self.mounts) {
    if (mount.v2 || !contains(mount.options, controller)) continue;
    bool shows_own = mount.root == "/" || group->path.starts_with(mount.root);
    if (!found || shows_own) found = Hierarchy{mount, group->path};
    if (shows_own) break;
  }
  return found;
}

std::optional<Hierarchy> find_v2_hierarchy(const SelfCgroups& self) {
  auto group = std::find_if(self.groups.begin(), self.groups.end(),
                            [](const ProcCgroup& g) { return g.controllers.empty(); });
  auto mount =
      std::find_if(self.mounts.begin(), self.mounts.end(), [](const CgroupMount& m) { return m.v2; });
  if (mount == self.mounts.end()) return std::nullopt;
  return Hierarchy{*mount, group == self.groups.end() ? std::string("/") : group->path};
}

CgroupConfig parse_config(const HostContext& context) {
  ConfigSection section(context.config, context.config_path.empty() ? "resource" : context.config_path);
  CgroupConfig config;
  if (auto parent = section.get_string("cgroup_parent")) {
    std::string key = section.key_path("cgroup_parent");
    auto parts = split(*parent, '/');
    bool has_name = false;
    for (const auto& part : parts) {
      if (part == "." || part == "..") {
        throw Error(key + ": \"" + *parent + "\" may not contain \".\" or \"..\"", 0,
                    "write a plain path such as \"/mcore\" or \"mcore\"");
      }
      has_name = has_name || !part.empty();
    }
    if (!has_name) {
      throw Error(
          key + ": \"" + *parent + "\" names no group", 0,
          "write a dedicated parent such as \"/mcore\" (below the hierarchy root) or \"mcore\" (below "
          "the group mcore runs in)");
    }
    config.cgroup_parent = *parent;
  }
  section.reject_unknown_keys();
  return config;
}

ParentGroup locate_parent(const Hierarchy& hierarchy, const std::string& cgroup_parent) {
  ParentGroup parent;
  bool absolute = cgroup_parent.starts_with('/');
  std::string prefix = absolute ? std::string() : hierarchy.own_path;
  parent.base = absolute ? hierarchy.mount.mount_point : directory_of(hierarchy, hierarchy.own_path);
  parent.dir = parent.base;
  for (const auto& part : split(cgroup_parent, '/')) {
    if (part.empty()) continue;
    parent.components.push_back(part);
    parent.dir /= part;
    prefix += (prefix.ends_with('/') ? "" : "/") + part;
  }
  parent.display = prefix;
  return parent;
}

void check_container_id(const std::string& container_id) {
  if (container_id.empty() || container_id == "." || container_id == ".." ||
      container_id.find('/') != std::string::npos || container_id.find('\0') != std::string::npos ||
      container_id.size() > 255) {
    throw Error("invalid container id \"" + container_id + "\" for a cgroup name", 0,
                "container ids are single path components, like the engine's 64-hex ids");
  }
}

std::vector<std::string> list_groups(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    std::error_code ignored;
    if (entry.is_directory(ignored)) names.push_back(entry.path().filename().string());
  }
  if (error && error != std::errc::no_such_file_or_directory) {
    throw Error("list cgroups in " + dir.string(), error.value());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::shared_ptr<spdlog::logger> driver_logger(const HostContext& context, const std::string& name) {
  if (context.logger) return context.logger->clone(name);
  return std::make_shared<spdlog::logger>(name);
}

}  // namespace mcore::cgroup
