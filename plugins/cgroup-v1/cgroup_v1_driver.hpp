#pragma once
// Resource driver for cgroup v1 (hybrid and legacy hosts): one directory per container in each of the
// memory, cpu, cpuacct, cpuset, pids and freezer hierarchies; co-mounted controllers share one.
#include <array>
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

class CgroupV1Driver final : public ResourceDriver {
 public:
  // Throws Error on bad config or when a controller is not mounted as cgroup v1.
  explicit CgroupV1Driver(const HostContext& context);

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

 private:
  enum Controller { kMemory, kCpu, kCpuacct, kCpuset, kPids, kFreezer, kDevices, kControllerCount };

  struct MountedHierarchy {
    std::vector<std::string> controllers;  // ours that it carries: "cpu", "cpuacct"
    ParentGroup parent;
    bool holds_cpuset() const;
  };

  std::filesystem::path dir(Controller controller, const std::string& container_id) const;
  void make_parent(const MountedHierarchy& hierarchy) const;
  void apply_limits(const std::string& container_id, const LimitPlan& plan) const;
  void restrict_devices(const std::string& container_id, const std::vector<DeviceAllowance>& allowed) const;
  void apply_cpuset(const std::string& container_id, const LimitPlan& plan) const;

  std::shared_ptr<spdlog::logger> logger_;
  std::vector<MountedHierarchy> hierarchies_;
  std::array<std::size_t, kControllerCount> index_{};  // controller -> hierarchies_ entry
};

}  // namespace mcore::cgroup
