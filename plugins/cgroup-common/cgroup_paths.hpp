#pragma once
// Where the drivers' groups live: this process's own groups (/proc/self/cgroup), the cgroup mounts
// (/proc/self/mountinfo), the "resource" config section and the resolved cgroup_parent.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "mcore/host_context.hpp"

namespace mcore::cgroup {

// One line of /proc/self/cgroup ("4:memory:/process_api/ab12"); the v2 line has no controllers.
struct ProcCgroup {
  std::vector<std::string> controllers;  // "memory", "cpu", ...; "name=systemd" kept as is
  std::string path;                      // relative to the hierarchy's root
};
std::vector<ProcCgroup> parse_proc_cgroup(std::string_view content);

// A cgroup (v1) or cgroup2 mount from /proc/self/mountinfo.
struct CgroupMount {
  std::filesystem::path mount_point;
  std::string root;  // the hierarchy path mounted there, "/" unless a subtree is bind-mounted
  bool v2 = false;
  std::vector<std::string> options;  // super options; for v1 they name the controllers
};
std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo);

// One hierarchy as this process sees it: where it is mounted and which group the process is in.
struct Hierarchy {
  CgroupMount mount;
  std::string own_path;
};

// Both files, read once when a driver is built.
struct SelfCgroups {
  std::vector<CgroupMount> mounts;
  std::vector<ProcCgroup> groups;
};
SelfCgroups read_self_cgroups();

// The v1 hierarchy carrying `controller`, or nullopt when it is not mounted as v1.
std::optional<Hierarchy> find_v1_hierarchy(const SelfCgroups& self, std::string_view controller);
// The cgroup2 hierarchy, or nullopt when none is mounted.
std::optional<Hierarchy> find_v2_hierarchy(const SelfCgroups& self);

// The "resource" section.
struct CgroupConfig {
  // "/x": below the hierarchy root; "x": below the group mcore itself runs in.
  std::string cgroup_parent = "/mcore";
};
CgroupConfig parse_config(const HostContext& context);

// The parent group in one hierarchy. Container groups are dir / <container id>.
struct ParentGroup {
  std::filesystem::path base;           // an existing directory: the hierarchy root or mcore's own group
  std::vector<std::string> components;  // the parent's path below `base`
  std::filesystem::path dir;            // base / components
  std::string display;                  // relative to the hierarchy root, for messages ("/mcore")
};
ParentGroup locate_parent(const Hierarchy& hierarchy, const std::string& cgroup_parent);

// Refuses an id that is not a single, plain path component (it becomes a directory name).
void check_container_id(const std::string& container_id);

// The names of the groups directly below `dir`; empty when `dir` does not exist.
std::vector<std::string> list_groups(const std::filesystem::path& dir);

// The engine's logger cloned under the driver's name, or a silent one when the context has none.
std::shared_ptr<spdlog::logger> driver_logger(const HostContext& context, const std::string& name);

}  // namespace mcore::cgroup
