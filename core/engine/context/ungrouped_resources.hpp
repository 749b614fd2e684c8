#pragma once
// What rootless mcore uses in place of a resource driver where the user has no cgroup of its own to
// delegate from (a cgroup v1 or hybrid host, or v2 without delegation): containers run in the user's
// own cgroup, as Podman's rootless containers do there. A limit is refused in one line saying why;
// pause and stats say they need a cgroup; a container's processes end with its init, the PID 1 of its
// own PID namespace, so there is no group to kill or remove.
#include "mcore/resource_driver.hpp"

namespace mcore::engine {

class UngroupedResources final : public ResourceDriver {
 public:
  // Throws Error when `request` sets a limit or a device rule.
  void create(const ResourceRequest& request) override;
  void add_process(const std::string&, pid_t) override {}
  // Throws Error: usage is counted per cgroup.
  ResourceStats stats(const std::string& container_id) const override;
  // Throw Error: the freezer is a cgroup's.
  void freeze(const std::string& container_id) override;
  void thaw(const std::string&) override {}
  void kill_all(const std::string&, int) override {}
  void destroy(const std::string&) override {}
  std::vector<std::string> list() const override { return {}; }
  std::string group_path(const std::string&) const override { return ""; }
  void update(const std::string& container_id, const ResourceLimits& limits) override;
};

}  // namespace mcore::engine
