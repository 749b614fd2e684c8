#include "cgroup_v1_driver.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "cgroup_devices.hpp"
#include "cgroup_files.hpp"
#include "mcore/error.hpp"

namespace mcore::cgroup {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kControllerNames[] = {"memory", "cpu", "cpuacct", "cpuset", "pids", "freezer", "devices"};

// A v1 freezer holds even SIGKILL until thawed. The group may be gone already.
void thaw_if_present(const fs::path& freezer) {
  try {
    write_knob(freezer / "freezer.state", "THAWED");
  } catch (const Error& error) {
    if (error.error_number() != ENOENT) throw;
  }
}

// A new v1 cpuset group starts with no CPUs and no memory nodes, and no task may join it until both are
// set: copies each from the group above when empty.
void inherit_cpuset(const fs::path& group) {
  for (const char* knob : {"cpuset.cpus", "cpuset.mems"}) {
    if (trim(read_file(group / knob)).empty()) write_knob(group / knob, trim(read_file(group.parent_path() / knob)));
  }
}

}  // namespace

bool CgroupV1Driver::MountedHierarchy::holds_cpuset() const {
  return std::find(controllers.begin(), controllers.end(), "cpuset") != controllers.end();
}

CgroupV1Driver::CgroupV1Driver(const HostContext& context) : logger_(driver_logger(context, "cgroup-v1")) {
  CgroupConfig config = parse_config(context);
  SelfCgroups self = read_self_cgroups();
  for (int controller = 0; controller < kControllerCount; ++controller) {
    const char* name = kControllerNames[controller];
    auto hierarchy = find_v1_hierarchy(self, name);
    if (!hierarchy) {
      throw Error(std::string("cgroup-v1: the ") + name + " controller is not mounted as cgroup v1", 0,
                  "on a cgroup v2 host use the cgroup-v2 resource driver");
    }
    ParentGroup parent = locate_parent(*hierarchy, config.cgroup_parent);
    auto same = std::find_if(hierarchies_.begin(), hierarchies_.end(),
                             [&](const MountedHierarchy& h) { return h.parent.dir == parent.dir; });
    if (same == hierarchies_.end()) {
      hierarchies_.push_back({{name}, std::move(parent)});
      index_[controller] = hierarchies_.size() - 1;
    } else {
      same->controllers.emplace_back(name);
      index_[controller] = static_cast<std::size_t>(same - hierarchies_.begin());
    }
  }
}

fs::path CgroupV1Driver::dir(Controller controller, const std::string& container_id) const {
  return hierarchies_[index_[controller]].parent.dir / container_id;
}

void CgroupV1Driver::make_parent(const MountedHierarchy& hierarchy) const {
  const bool cpuset = hierarchy.holds_cpuset();
  fs::path current = hierarchy.parent.base;
  for (const auto& component : hierarchy.parent.components) {
    current /= component;
    make_dir(current);
    if (!cpuset) continue;
    // Set up even when it existed: a start that crashed or raced with this one may have left it empty.
    // clone_children hands the CPUs and nodes on to the container groups created below.
    inherit_cpuset(current);
    write_knob(current / "cgroup.clone_children", "1");
  }
}

void CgroupV1Driver::create(const ResourceRequest& request) {
  const std::string& id = request.container_id;
  check_container_id(id);
  with_context("create the cgroup of container " + id, [&] {
    LimitPlan plan = plan_limits(request.limits);
    CreatedGroups created;
    for (const auto& hierarchy : hierarchies_) {
      fs::path group = hierarchy.parent.dir / id;
      if (!make_dir(group, [&] { make_parent(hierarchy); })) {
        throw Error(group.string() + " already exists", 0,
                    "a container with this id still has its cgroup; remove the container first");
      }
      created.add(group);
    }
    apply_limits(id, plan);
    if (!request.unrestricted_devices) restrict_devices(id, request.allowed_devices);
    created.commit();
  });
}

void CgroupV1Driver::update(const std::string& container_id, const ResourceLimits& limits) {
  check_container_id(container_id);
  with_group("update the limits of container " + container_id, dir(kMemory, container_id), [&] {
    const LimitPlan plan = plan_limits(limits);
    const fs::path memsw = dir(kMemory, container_id) / "memory.memsw.limit_in_bytes";
    // The kernel refuses a memory limit above memory+swap: lift that first, apply_limits sets it after.
    if (plan.memory_bytes && fs::exists(memsw)) write_knob(memsw, "-1");
    apply_limits(container_id, plan);
  });
}

void CgroupV1Driver::restrict_devices(const std::string& id, const std::vector<DeviceAllowance>& allowed) const {
  const auto rules = device_rules(allowed);  // checked before anything is written
  // A new devices group inherits its parent's (usually allow-all) list: deny everything, then allow.
  fs::path group = dir(kDevices, id);
  write_knob(group / "devices.deny", "a");
  for (const auto& rule : rules) write_knob(group / "devices.allow", to_v1_rule(rule));
}

void CgroupV1Driver::apply_limits(const std::string& id, const LimitPlan& plan) const {
  if (plan.memory_bytes) {
    // The limit first: the kernel refuses memory+swap below the memory limit.
    write_knob(dir(kMemory, id) / "memory.limit_in_bytes", std::to_string(*plan.memory_bytes));
    if (plan.memory_swap_bytes) {
      write_swap_limit(dir(kMemory, id) / "memory.memsw.limit_in_bytes", std::to_string(*plan.memory_swap_bytes),
                       plan, *logger_);
    }
  }
  if (plan.cpu_quota_us) {
    write_knob(dir(kCpu, id) / "cpu.cfs_period_us", std::to_string(kCpuPeriodUs));
    write_knob(dir(kCpu, id) / "cpu.cfs_quota_us", std::to_string(*plan.cpu_quota_us));
  }
  if (plan.cpu_shares) write_knob(dir(kCpu, id) / "cpu.shares", std::to_string(*plan.cpu_shares));
  apply_cpuset(id, plan);
  if (plan.pids_max) write_knob(dir(kPids, id) / "pids.max", *plan.pids_max);
}

void CgroupV1Driver::apply_cpuset(const std::string& id, const LimitPlan& plan) const {
  fs::path group = dir(kCpuset, id);
  fs::path parent = group.parent_path();
  struct Knob {
    const char* limit;
    const std::optional<std::string>& value;
    const char* file;
    const char* effective_file;
  };
  for (const Knob& knob : {Knob{"cpuset_cpus", plan.cpuset_cpus, "cpuset.cpus", "cpuset.effective_cpus"},
                           Knob{"cpuset_mems", plan.cpuset_mems, "cpuset.mems", "cpuset.effective_mems"}}) {
    if (knob.value) {
      std::string available;
      try {
        available = read_file(parent / knob.effective_file);
      } catch (const Error& error) {
        if (error.error_number() != ENOENT) throw;
        available = read_file(parent / knob.file);  // kernels before 4.17 have no effective_* files
      }
      check_cpuset(knob.limit, *knob.value, available);
      write_knob(group / knob.file, *knob.value);
    } else if (trim(read_file(group / knob.file)).empty()) {
      // The parent was not made by us (no clone_children): inherit its set so tasks can join.
      write_knob(group / knob.file, trim(read_file(parent / knob.file)));
    }
  }
}

void CgroupV1Driver::add_process(const std::string& container_id, pid_t pid) {
  check_container_id(container_id);
  with_group("add process " + std::to_string(pid) + " to the cgroup of container " + container_id,
             dir(kMemory, container_id), [&] {
               for (const auto& hierarchy : hierarchies_) {
                 const fs::path group = hierarchy.parent.dir / container_id;
                 try {
                   write_knob(group / "cgroup.procs", std::to_string(pid));
                 } catch (const Error& error) {
                   // An empty cpuset (ENOSPC): its parent was made by a start that crashed or was still
                   // setting it up. Repaired here, off the usual path, rather than checked on every start.
                   if (error.error_number() != ENOSPC || !hierarchy.holds_cpuset()) throw;
                   make_parent(hierarchy);
                   inherit_cpuset(group);
                   write_knob(group / "cgroup.procs", std::to_string(pid));
                 }
               }
             });
}

ResourceStats CgroupV1Driver::stats(const std::string& container_id) const {
  check_container_id(container_id);
  return with_group("read the cgroup statistics of container " + container_id, dir(kMemory, container_id),
                    [&] {
                      auto number = [](const fs::path& file) { return parse_u64(read_file(file), file); };
                      auto limit = [](const fs::path& file) { return parse_limit(read_file(file), file); };
                      fs::path memory = dir(kMemory, container_id);
                      fs::path pids = dir(kPids, container_id);
                      ResourceStats stats;
                      stats.memory_usage_bytes = number(memory / "memory.usage_in_bytes");
                      stats.memory_limit_bytes = limit(memory / "memory.limit_in_bytes");
                      // "oom_kill" appeared in Linux 4.13; older kernels do not count.
                      fs::path oom_control = memory / "memory.oom_control";
                      stats.oom_kills = find_key(read_file(oom_control), "oom_kill", oom_control).value_or(0);
                      stats.cpu_usage_ns = number(dir(kCpuacct, container_id) / "cpuacct.usage");
                      stats.pids_current = number(pids / "pids.current");
                      stats.pids_limit = limit(pids / "pids.max");
                      return stats;
                    });
}

void CgroupV1Driver::freeze(const std::string& container_id) {
  check_container_id(container_id);
  with_group("freeze container " + container_id, dir(kFreezer, container_id), [&] {
    fs::path state = dir(kFreezer, container_id) / "freezer.state";
    write_knob(state, "FROZEN");
    // The kernel reports FREEZING until every task has stopped; writing again retries stragglers.
    bool frozen = wait_for(
        [&] {
          if (trim(read_file(state)) == "FROZEN") return true;
          write_knob(state, "FROZEN");
          return false;
        },
        10s);
    if (!frozen) {
      write_knob(state, "THAWED");
      throw Error("processes did not freeze within 10 s", 0,
                  "a process may be stuck in the kernel (uninterruptible I/O); try again later");
    }
  });
}

void CgroupV1Driver::thaw(const std::string& container_id) {
  check_container_id(container_id);
  with_group("thaw container " + container_id, dir(kFreezer, container_id),
             [&] { write_knob(dir(kFreezer, container_id) / "freezer.state", "THAWED"); });
}

void CgroupV1Driver::kill_all(const std::string& container_id, int signal) {
  check_container_id(container_id);
  with_context("signal the processes of container " + container_id, [&] {
    fs::path freezer = dir(kFreezer, container_id);
    signal_procs(freezer, signal);
    if (signal == SIGKILL) thaw_if_present(freezer);
  });
}

void CgroupV1Driver::destroy(const std::string& container_id) {
  check_container_id(container_id);
  with_context("remove the cgroup of container " + container_id, [&] {
    fs::path freezer = dir(kFreezer, container_id);
    for (const auto& hierarchy : hierarchies_) {
      fs::path group = hierarchy.parent.dir / container_id;
      destroy_group(
          group,
          [&] {
            signal_procs(group, SIGKILL);
            thaw_if_present(freezer);
          },
          5s);
    }
  });
}

std::vector<std::string> CgroupV1Driver::list() const {
  return list_groups(hierarchies_[index_[kMemory]].parent.dir);
}

std::string CgroupV1Driver::group_path(const std::string& container_id) const {
  return hierarchies_[index_[kMemory]].parent.display + "/" + container_id;
}

}  // namespace mcore::cgroup
