#include "cgroup_limits.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "cgroup_files.hpp"
#include "mcore/error.hpp"

namespace mcore::cgroup {

namespace {

[[noreturn]] void invalid(const std::string& message, const std::string& hint) {
  throw Error(message, 0, hint);
}

// "0-2,4" as a set; nullopt when malformed.
std::optional<std::set<unsigned>> parse_list(std::string_view text) {
  std::set<unsigned> members;
  text = trim(text);
  if (text.empty()) return members;
  auto number = [](std::string_view part, unsigned& value) {
    auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
    return error == std::errc() && end == part.data() + part.size() && !part.empty();
  };
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(pos, end - pos);
    auto dash = part.find('-');
    unsigned first = 0;
    unsigned last = 0;
    if (dash == std::string_view::npos) {
      if (!number(part, first)) return std::nullopt;
      last = first;
    } else if (!number(part.substr(0, dash), first) || !number(part.substr(dash + 1), last) || last < first ||
               last - first > 65536) {
      return std::nullopt;
    }
    for (unsigned member = first; member <= last; ++member) members.insert(member);
    pos = end + 1;
  }
  return members;
}

}  // namespace

LimitPlan plan_limits(const ResourceLimits& limits) {
  LimitPlan plan;

  // Docker treats 0 as "not set" for memory, swap, cpus and shares.
  if (limits.memory_bytes && *limits.memory_bytes != 0) {
    if (*limits.memory_bytes < kMinMemoryBytes) {
      invalid("memory " + std::to_string(*limits.memory_bytes) + ": Minimum memory limit allowed is 6MB",
              "give at least 6 MiB, e.g. --memory 6m");
    }
    plan.memory_bytes = limits.memory_bytes;
  }
  if (limits.memory_swap_bytes && *limits.memory_swap_bytes != 0) {
    std::int64_t swap = *limits.memory_swap_bytes;
    if (swap < -1) {
      invalid("memory_swap " + std::to_string(swap) + ": must be -1 (unlimited) or at least the memory limit",
              "give memory plus swap, e.g. --memory 64m --memory-swap 128m");
    }
    if (!plan.memory_bytes && swap != -1) {
      invalid("memory_swap " + std::to_string(swap) +
                  ": You should always set the Memory limit when using Memoryswap limit",
              "add a memory limit, e.g. --memory 64m --memory-swap 128m");
    }
    if (plan.memory_bytes && swap != -1 && swap < *plan.memory_bytes) {
      invalid("memory_swap " + std::to_string(swap) + " is below memory " +
                  std::to_string(*plan.memory_bytes) +
                  ": Minimum memoryswap limit should be larger than memory limit",
              "memory_swap is memory plus swap: give at least the memory limit, or -1 for unlimited swap");
    }
    if (plan.memory_bytes) {
      plan.memory_swap_bytes = swap;
      plan.memory_swap_explicit = true;
    }
  } else if (plan.memory_bytes) {
    plan.memory_swap_bytes = *plan.memory_bytes > INT64_MAX / 2 ? -1 : *plan.memory_bytes * 2;
  }

  if (limits.nano_cpus && *limits.nano_cpus != 0) {
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    std::int64_t nano = *limits.nano_cpus;
    if (nano < 10'000'000 || (cpus > 0 && nano > cpus * 1'000'000'000LL)) {
      invalid(fmt::format("cpus {:.2f}", static_cast<double>(nano) / 1e9) +
                  ": Range of CPUs is from 0.01 to " + std::to_string(cpus) + ".00, as there are only " +
                  std::to_string(cpus) + " CPUs available",
              "give a value within that range, e.g. --cpus 0.5");
    }
    plan.cpu_quota_us = nano * kCpuPeriodUs / 1'000'000'000;
  }

  if (limits.cpu_shares && *limits.cpu_shares != 0) {
    if (*limits.cpu_shares < 2 || *limits.cpu_shares > 262144) {
      invalid("cpu_shares " + std::to_string(*limits.cpu_shares) + ": must be between 2 and 262144",
              "the default weight is 1024; give e.g. --cpu-shares 512 for half of it");
    }
    plan.cpu_shares = limits.cpu_shares;
  }

  for (auto [name, value, target] : {std::tuple{"cpuset_cpus", &limits.cpuset_cpus, &plan.cpuset_cpus},
                                     std::tuple{"cpuset_mems", &limits.cpuset_mems, &plan.cpuset_mems}}) {
    if (!*value || trim(**value).empty()) continue;
    if (!parse_list(**value)) {
      invalid(std::string(name) + " \"" + **value + "\": not a list of numbers and ranges",
              "write it like \"0-2,4\"");
    }
    *target = std::string(trim(**value));
  }

  if (limits.pids_limit) {
    plan.pids_max = *limits.pids_limit <= 0 ? std::string("max") : std::to_string(*limits.pids_limit);
  }
  return plan;
}

std::uint64_t cpu_shares_to_weight(std::uint64_t shares) { return 1 + ((shares - 2) * 9999) / 262142; }

void check_cpuset(std::string_view limit, std::string_view requested, std::string_view available) {
  auto wanted = parse_list(requested);
  auto offered = parse_list(available);
  std::string prefix = std::string(limit) + " \"" + std::string(trim(requested)) + "\": ";
  if (!wanted) invalid(prefix + "not a list of numbers and ranges", "write it like \"0-2,4\"");
  if (!offered)
    throw Error(prefix + "cannot parse the available set \"" + std::string(trim(available)) + "\"");
  for (unsigned member : *wanted) {
    if (!offered->contains(member)) {
      invalid(prefix + "cpuset " + std::to_string(member) + " is not available; this host has " +
                  std::string(trim(available)),
              "choose from the available set");
    }
  }
}

void check_hugepage_size(std::string_view page_size) {
  const std::size_t digits = page_size.find_first_not_of("0123456789");
  const std::string_view unit = digits == std::string_view::npos ? "" : page_size.substr(digits);
  if (digits == 0 || (unit != "KB" && unit != "MB" && unit != "GB")) {
    invalid("huge page size \"" + std::string(page_size) + "\": not a size as the kernel writes it",
            "write it like \"2MB\" or \"1GB\" (see /sys/kernel/mm/hugepages)");
  }
}

void write_swap_limit(const std::filesystem::path& file, const std::string& value, const LimitPlan& plan,
                      spdlog::logger& logger) {
  try {
    write_knob(file, value);
  } catch (const Error& error) {
    if (error.error_number() != ENOENT) throw;
    if (plan.memory_swap_explicit) {
      logger.warn(
          "Your kernel does not support swap limit capabilities or the cgroup is not mounted. "
          "Memory limited without swap.");
    }
  }
}

}  // namespace mcore::cgroup
