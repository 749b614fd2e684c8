#pragma once
// Docker's limit semantics, checked and converted once for both backends: what to write, not where.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <filesystem>

#include <spdlog/logger.h>

#include "mcore/resource_driver.hpp"

namespace mcore::cgroup {

inline constexpr std::int64_t kMinMemoryBytes = 6 * 1024 * 1024;  // Docker's minimum
inline constexpr std::int64_t kCpuPeriodUs = 100000;              // Docker's --cpus period

struct LimitPlan {
  std::optional<std::int64_t> memory_bytes;
  // Memory plus swap; -1 unlimited. Twice the memory when only memory was given (Docker's default).
  std::optional<std::int64_t> memory_swap_bytes;
  // The user set memory_swap: warn when the host cannot enforce it. The default is dropped silently.
  bool memory_swap_explicit = false;
  std::optional<std::int64_t> cpu_quota_us;  // per kCpuPeriodUs
  std::optional<std::uint64_t> cpu_shares;   // 2..262144
  std::optional<std::string> cpuset_cpus;
  std::optional<std::string> cpuset_mems;
  std::optional<std::string> pids_max;  // "max" or a number
};

// Checks `limits` (Docker's rules and messages) and converts them. Throws Error naming the limit.
LimitPlan plan_limits(const ResourceLimits& limits);

// Writes the swap knob (`file`: memsw.limit_in_bytes or memory.swap.max). Without swap accounting the
// file is missing: carry on as Docker does, warning only when the user asked for a swap limit.
void write_swap_limit(const std::filesystem::path& file, const std::string& value, const LimitPlan& plan,
                      spdlog::logger& logger);

// cgroup v1 cpu.shares to v2 cpu.weight, the formula runc and crun use.
std::uint64_t cpu_shares_to_weight(std::uint64_t shares);

// Throws unless `requested` ("0-2,4") is a valid list whose every member is in `available`, the
// parent's effective set. `limit` names the limit ("cpuset_cpus") for the message.
void check_cpuset(std::string_view limit, std::string_view requested, std::string_view available);

// Throws unless `page_size` is written as the kernel names huge page sizes in its hugetlb files: a
// number and KB, MB or GB ("2MB", "1GB", "64KB").
void check_hugepage_size(std::string_view page_size);

}  // namespace mcore::cgroup
