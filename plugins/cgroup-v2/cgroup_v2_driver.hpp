#pragma once
// Resource driver for the unified cgroup v2 hierarchy: one directory per container below the parent,
// whose cgroup.subtree_control delegates cpu, cpuset, memory, pids (and io) to it.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "cgroup_limits.hpp"
#include "cgroup_paths.hpp"
#include "mcore/host_context.hpp"
#include "mcore/resource_driver.hpp"

namespace mcore::cgroup {

class CgroupV2Driver final : public ResourceDriver {
 public:
  // Throws Error on bad config or when the v2 hierarchy lacks the memory, cpu or pids controller
  // (a hybrid host, whose controllers are on cgroup v1).
  explicit CgroupV2Driver(const HostContext& context);

  void create(const ResourceRequest& request) override;
  void add_process(const std::string& container_id, pid_t pid) override;
  ResourceStats stats(const std::string& container_id) const override;
  void freeze(const std::string& container_id) override;
  void thaw(const std::string& container_id) override;
  void kill_all(const std::string& container_id, int signal) override;
  void destroy(const std::string& container_id) override;
  std::vector<std::string> list() const override;
  std::string group_path(const std::string& container_id) const override;
  void update(const std::string& container_id, const ResourceLimits& limits) override;
  void limit_hugepages(const std::string& container_id, const std::vector<HugepageLimit>& limits) override;

 private:
  std::filesystem::path dir(const std::string& container_id) const { return parent_.dir / container_id; }
  void make_parent() const;
  void delegate_controllers(const std::filesystem::path& group) const;
  void apply_limits(const std::filesystem::path& group, const LimitPlan& plan) const;
  void kill_group(const std::filesystem::path& group) const;

  std::shared_ptr<spdlog::logger> logger_;
  ParentGroup parent_;
};

}  // namespace mcore::cgroup
