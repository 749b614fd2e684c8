#include "cgroup_v2_driver.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "cgroup_files.hpp"
#include "device_filter.hpp"
#include "mcore/error.hpp"

namespace mcore::cgroup {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kRequiredControllers[] = {"memory", "cpu", "pids"};
// hugetlb where the kernel has it: only containers with huge page limits need it.
constexpr const char* kDelegatedControllers[] = {"cpu", "cpuset", "memory", "pids", "io", "hugetlb"};

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

CgroupV2Driver::CgroupV2Driver(const HostContext& context) : logger_(driver_logger(context, "cgroup-v2")) {
  CgroupConfig config = parse_config(context);
  auto hierarchy = find_v2_hierarchy(read_self_cgroups());
  if (!hierarchy) {
    throw Error("cgroup-v2: no cgroup2 filesystem is mounted", 0,
                "on a cgroup v1 host use the cgroup-v1 resource driver");
  }
  parent_ = locate_parent(*hierarchy, config.cgroup_parent);
  auto available = split_words(read_file(parent_.base / "cgroup.controllers"));
  std::string missing;
  for (const char* controller : kRequiredControllers) {
    if (!contains(available, controller)) missing += std::string(missing.empty() ? "" : ", ") + controller;
  }
  if (missing.empty()) return;
  if (parent_.base != hierarchy->mount.mount_point &&
      contains(split_words(read_file(hierarchy->mount.mount_point / "cgroup.controllers")), "memory")) {
    throw Error(
        "cgroup-v2: the group mcore runs in (" + parent_.base.string() + ") is not given the " + missing +
            " controller(s)",
        0,
        "set resource.cgroup_parent to an absolute path such as \"/mcore\", or delegate the controllers "
        "to this group");
  }
  throw Error("cgroup-v2: the cgroup v2 hierarchy at " + hierarchy->mount.mount_point.string() +
                  " lacks the " + missing + " controller(s); this host runs them on cgroup v1",
              0, "use the cgroup-v1 resource driver, or boot with systemd.unified_cgroup_hierarchy=1");
}

void CgroupV2Driver::delegate_controllers(const fs::path& group) const {
  auto available = split_words(read_file(group / "cgroup.controllers"));
  auto enabled = split_words(read_file(group / "cgroup.subtree_control"));
  std::string request;
  for (const char* controller : kDelegatedControllers) {
    if (contains(available, controller) && !contains(enabled, controller)) {
      request += std::string(request.empty() ? "+" : " +") + controller;
    }
  }
  if (request.empty()) return;
  try {
    write_knob(group / "cgroup.subtree_control", request);
  } catch (const Error& error) {
    if (error.error_number() != EBUSY) throw;
    throw Error("cannot delegate controllers below " + group.string() +
                    ": it holds processes, and cgroup v2 gives groups below a group controllers only when "
                    "that group has no processes of its own (the no-internal-processes rule)",
                EBUSY, "set resource.cgroup_parent to an absolute path such as \"/mcore\"");
  }
}

void CgroupV2Driver::make_parent() const {
  fs::path current = parent_.base;
  delegate_controllers(current);
  for (const auto& component : parent_.components) {
    current /= component;
    make_dir(current);
    delegate_controllers(current);
  }
}

void CgroupV2Driver::create(const ResourceRequest& request) {
  const std::string& id = request.container_id;
  check_container_id(id);
  with_context("create the cgroup of container " + id, [&] {
    LimitPlan plan = plan_limits(request.limits);
    fs::path group = dir(id);
    CreatedGroups created;
    if (!make_dir(group, [&] { make_parent(); })) {
      throw Error(group.string() + " already exists", 0,
                  "a container with this id still has its cgroup; remove the container first");
    }
    created.add(group);
    apply_limits(group, plan);
    if (!request.unrestricted_devices) attach_device_filter(group, device_rules(request.allowed_devices));
    created.commit();
  });
}

void CgroupV2Driver::update(const std::string& container_id, const ResourceLimits& limits) {
  check_container_id(container_id);
  with_group("update the limits of container " + container_id, dir(container_id),
             [&] { apply_limits(dir(container_id), plan_limits(limits)); });
}

void CgroupV2Driver::limit_hugepages(const std::string& container_id,
                                     const std::vector<HugepageLimit>& limits) {
  check_container_id(container_id);
  const fs::path group = dir(container_id);
  with_group("limit the huge pages of container " + container_id, group, [&] {
    for (const HugepageLimit& limit : limits) {
      check_hugepage_size(limit.page_size);
      const fs::path knob = group / ("hugetlb." + limit.page_size + ".max");
      std::error_code ignored;
      if (!fs::exists(knob, ignored) && fs::is_directory(group, ignored)) {
        if (!contains(split_words(read_file(group / "cgroup.controllers")), "hugetlb")) {
          throw Error("the hugetlb controller is not enabled below " + parent_.display, 0,
                      "add +hugetlb to " + (parent_.dir / "cgroup.subtree_control").string() +
                          ", or remove that (empty) directory so mcore recreates it");
        }
        throw Error("huge page size " + limit.page_size + ": this kernel has no huge pages of that size", 0,
                    "use a size listed in /sys/kernel/mm/hugepages");
      }
      write_knob(knob, std::to_string(limit.limit_bytes));
    }
  });
}

void CgroupV2Driver::apply_limits(const fs::path& group, const LimitPlan& plan) const {
  // A missing knob means the parent does not delegate that controller.
  auto not_delegated = [&](const char* controller) {
    return Error("the " + std::string(controller) + " controller is not enabled below " + parent_.display, 0,
                 "add +" + std::string(controller) + " to " +
                     (parent_.dir / "cgroup.subtree_control").string() +
                     ", or remove that (empty) directory so mcore recreates it");
  };
  auto write_limit = [&](const char* file, const std::string& value, const char* controller) {
    try {
      write_knob(group / file, value);
    } catch (const Error& error) {
      if (error.error_number() == ENOENT) throw not_delegated(controller);
      throw;
    }
  };

  if (plan.memory_bytes) {
    write_limit("memory.max", std::to_string(*plan.memory_bytes), "memory");
    if (plan.memory_swap_bytes) {
      // v2 limits swap alone, Docker's value is memory plus swap.
      std::string swap = *plan.memory_swap_bytes == -1
                             ? std::string("max")
                             : std::to_string(*plan.memory_swap_bytes - *plan.memory_bytes);
      write_swap_limit(group / "memory.swap.max", swap, plan, *logger_);
    }
  }
  if (plan.cpu_quota_us) {
    write_limit("cpu.max", std::to_string(*plan.cpu_quota_us) + " " + std::to_string(kCpuPeriodUs), "cpu");
  }
  if (plan.cpu_shares)
    write_limit("cpu.weight", std::to_string(cpu_shares_to_weight(*plan.cpu_shares)), "cpu");
  struct Knob {
    const char* limit;
    const std::optional<std::string>& value;
    const char* file;
  };
  for (const Knob& knob : {Knob{"cpuset_cpus", plan.cpuset_cpus, "cpuset.cpus"},
                           Knob{"cpuset_mems", plan.cpuset_mems, "cpuset.mems"}}) {
    if (!knob.value) continue;
    std::string available;
    try {
      available = read_file(parent_.dir / (std::string(knob.file) + ".effective"));
    } catch (const Error& error) {
      if (error.error_number() == ENOENT) throw not_delegated("cpuset");
      throw;
    }
    check_cpuset(knob.limit, *knob.value, available);
    write_limit(knob.file, *knob.value, "cpuset");
  }
  if (plan.pids_max) write_limit("pids.max", *plan.pids_max, "pids");
}

void CgroupV2Driver::add_process(const std::string& container_id, pid_t pid) {
  check_container_id(container_id);
  with_group("add process " + std::to_string(pid) + " to the cgroup of container " + container_id,
             dir(container_id), [&] { write_knob(dir(container_id) / "cgroup.procs", std::to_string(pid)); });
}

ResourceStats CgroupV2Driver::stats(const std::string& container_id) const {
  check_container_id(container_id);
  return with_group("read the cgroup statistics of container " + container_id, dir(container_id), [&] {
    auto number = [](const fs::path& file) { return parse_u64(read_file(file), file); };
    auto limit = [](const fs::path& file) { return parse_limit(read_file(file), file); };
    auto key = [](const fs::path& file, std::string_view name) {
      return find_key(read_file(file), name, file).value_or(0);
    };
    fs::path group = dir(container_id);
    ResourceStats stats;
    stats.memory_usage_bytes = number(group / "memory.current");
    stats.memory_limit_bytes = limit(group / "memory.max");
    stats.oom_kills = key(group / "memory.events", "oom_kill");
    stats.cpu_usage_ns = key(group / "cpu.stat", "usage_usec") * 1000;
    stats.pids_current = number(group / "pids.current");
    stats.pids_limit = limit(group / "pids.max");
    return stats;
  });
}

void CgroupV2Driver::freeze(const std::string& container_id) {
  check_container_id(container_id);
  with_group("freeze container " + container_id, dir(container_id), [&] {
    fs::path group = dir(container_id);
    try {
      write_knob(group / "cgroup.freeze", "1");
    } catch (Error& error) {
      if (error.error_number() == ENOENT) error.set_hint("the cgroup v2 freezer needs Linux 5.2 or newer");
      throw;
    }
    auto events = group / "cgroup.events";
    if (!wait_for([&] { return find_key(read_file(events), "frozen", events) == 1u; }, 10s)) {
      write_knob(group / "cgroup.freeze", "0");
      throw Error("processes did not freeze within 10 s", 0,
                  "a process may be stuck in the kernel (uninterruptible I/O); try again later");
    }
  });
}

void CgroupV2Driver::thaw(const std::string& container_id) {
  check_container_id(container_id);
  with_group("thaw container " + container_id, dir(container_id),
             [&] { write_knob(dir(container_id) / "cgroup.freeze", "0"); });
}

void CgroupV2Driver::kill_group(const fs::path& group) const {
  // cgroup.kill (Linux 5.14) kills the whole subtree at once, racing no fork.
  try {
    write_knob(group / "cgroup.kill", "1");
    return;
  } catch (const Error& error) {
    if (error.error_number() != ENOENT) throw;
  }
  signal_procs(group, SIGKILL);
}

void CgroupV2Driver::kill_all(const std::string& container_id, int signal) {
  check_container_id(container_id);
  with_context("signal the processes of container " + container_id, [&] {
    if (signal == SIGKILL) {
      kill_group(dir(container_id));
    } else {
      signal_procs(dir(container_id), signal);
    }
  });
}

void CgroupV2Driver::destroy(const std::string& container_id) {
  check_container_id(container_id);
  with_context("remove the cgroup of container " + container_id, [&] {
    fs::path group = dir(container_id);
    destroy_group(
        group, [&] { kill_group(group); }, 5s);
  });
}

std::vector<std::string> CgroupV2Driver::list() const { return list_groups(parent_.dir); }

std::string CgroupV2Driver::group_path(const std::string& container_id) const {
  return parent_.display + "/" + container_id;
}

}  // namespace mcore::cgroup
