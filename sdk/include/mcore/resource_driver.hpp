#pragma once
// Resource drivers put a container's processes in a control group, enforce its limits, report usage and
// act on the whole group (freeze, kill). Container ids are the engine's 64-hex ids.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "mcore/plugin.hpp"

namespace mcore {

// Limits in Docker's units; an empty optional means "no limit set".
struct ResourceLimits {
  std::optional<std::int64_t> memory_bytes;       // --memory
  std::optional<std::int64_t> memory_swap_bytes;  // --memory-swap: memory plus swap; -1 unlimited
  std::optional<std::int64_t> nano_cpus;          // --cpus x 1e9
  std::optional<std::uint64_t> cpu_shares;        // --cpu-shares, 2..262144 (cgroup v1 units)
  std::optional<std::string> cpuset_cpus;         // --cpuset-cpus, "0-1,3"
  std::optional<std::string> cpuset_mems;         // --cpuset-mems
  std::optional<std::int64_t> pids_limit;         // --pids-limit; <= 0 unlimited
};

// A device a container may use beyond the defaults (runtime-spec linux.resources.devices, Docker's
// --device). ABI 3.0.
struct DeviceAllowance {
  char type = 'a';              // 'c', 'b', or 'a' (both)
  std::int64_t major = -1;      // -1: any
  std::int64_t minor = -1;      // -1: any
  std::string access = "rwm";   // any of "r", "w", "m"
};

// A limit on one huge page size (runtime-spec linux.resources.hugepageLimits). ABI 3.1.
struct HugepageLimit {
  std::string page_size;      // as the kernel names it in hugetlb.<size>.*: "2MB", "1GB", "64KB"
  std::uint64_t limit_bytes;  // the bytes of huge pages of that size the group may use
};

struct ResourceRequest {
  std::string container_id;
  ResourceLimits limits;
  // false: only Docker's default devices may be opened (null, zero, full, random, urandom, tty,
  // console, ptmx, pts, tun) and those in `allowed_devices`; any device may be created but not
  // opened. true (--privileged): no rule.
  bool unrestricted_devices = false;
  std::vector<DeviceAllowance> allowed_devices{};
};

struct ResourceStats {
  std::uint64_t memory_usage_bytes = 0;
  std::uint64_t memory_limit_bytes = 0;  // 0: unlimited
  std::uint64_t cpu_usage_ns = 0;        // cumulative
  std::uint64_t pids_current = 0;
  std::uint64_t pids_limit = 0;          // 0: unlimited
  std::uint64_t oom_kills = 0;           // processes the OOM killer killed in the group
};

class ResourceDriver : public Driver {
 public:
  ~ResourceDriver() override;

  // Creates the container's group, applies `limits` and the device rules. Throws Error naming the limit when it is invalid
  // or the host cannot enforce it; on failure nothing is left behind. No process is placed yet.
  virtual void create(const ResourceRequest& request) = 0;

  // Moves process `pid` (and so its future children) into the container's group. The engine calls it
  // before the container's command may run.
  virtual void add_process(const std::string& container_id, pid_t pid) = 0;

  // Current usage. Throws Error if the group does not exist.
  virtual ResourceStats stats(const std::string& container_id) const = 0;

  // Freezes or thaws every process in the group; both are idempotent.
  virtual void freeze(const std::string& container_id) = 0;
  virtual void thaw(const std::string& container_id) = 0;

  // Sends `signal` to every process in the group.
  virtual void kill_all(const std::string& container_id, int signal) = 0;

  // Kills what still runs in the group and removes it. Idempotent: a missing group is not an error.
  virtual void destroy(const std::string& container_id) = 0;

  // Containers that have a group under this driver's parent, for pruning.
  virtual std::vector<std::string> list() const = 0;

  // The group's path for display ("/mcore/<id>", relative to the hierarchy root).
  virtual std::string group_path(const std::string& container_id) const = 0;

  // ABI 3.0. Changes the limits of a live group (`mcore-oci update`): each limit set in `limits`
  // replaces the current one, the others stay. Checked as create checks them; throws Error naming the
  // limit, or when the group does not exist. The default refuses: a driver that cannot change limits
  // of running processes says so.
  virtual void update(const std::string& container_id, const ResourceLimits& limits);

  // ABI 3.1. Limits the huge pages the group created by `create` may use, one limit per page size.
  // Throws Error naming the size when the kernel has no such pages or the controller is missing; the
  // engine then destroys the group. The engine calls it only on drivers built for 3.1 or later, and
  // only with limits to set. The default refuses: a driver without huge page control says so.
  virtual void limit_hugepages(const std::string& container_id, const std::vector<HugepageLimit>& limits);
};

}  // namespace mcore
