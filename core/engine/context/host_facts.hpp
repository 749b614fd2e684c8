#pragma once
// What the host offers that matters to mcore; read once per command, on demand.
#include <optional>
#include <string>
#include <vector>

namespace mcore::engine {

enum class CgroupMode { v1, hybrid, v2 };  // legacy only / v1 controllers plus an empty v2 / pure v2

struct HostFacts {
  std::string kernel_release;
  CgroupMode cgroup_mode = CgroupMode::v1;
  bool overlay_supported = false;   // "overlay" in /proc/filesystems (after a modprobe attempt: no)
  bool cgroup_namespace = false;    // /proc/self/ns/cgroup exists
  bool seccomp_supported = false;   // /proc/self/status has Seccomp:
};

HostFacts probe_host();

// One cgroup hierarchy mounted below /sys/fs/cgroup, as mountinfo shows it.
struct CgroupHierarchy {
  std::string name;     // below /sys/fs/cgroup ("memory", "cpu,cpuacct", "unified"); "" for /sys/fs/cgroup
  std::string fstype;   // "cgroup" or "cgroup2"
  std::string options;  // the superblock's options but rw/ro: "memory", "xattr,name=systemd", ""
};
// Every cgroup hierarchy the host mounts at or below /sys/fs/cgroup, in mount order: what a container
// gets at its own /sys/fs/cgroup, each rooted at its cgroup through the cgroup namespace.
std::vector<CgroupHierarchy> host_cgroup_hierarchies();
// Only the cgroup mode: one or two statfs calls, cheap enough for the container start path.
CgroupMode probe_cgroup_mode();
// The single facts the container start path needs, without probing the rest.
bool probe_cgroup_namespace();
// On a pure cgroup v2 host, for an ordinary user: the group whose subtree was delegated to the user
// (systemd's user@.service, or a directory root chowned to it) that is the parent of the user's own
// cgroup, as a path from the hierarchy's root ("/user.slice/.../app.slice"). Containers' groups go below
// it, beside the group mcore runs in: a group that holds processes cannot pass controllers down.
// nullopt on v1 and hybrid hosts, or when the user may not write there.
std::optional<std::string> probe_delegated_cgroup();
const char* to_string(CgroupMode mode);

}  // namespace mcore::engine
