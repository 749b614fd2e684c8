// The resource drivers' one behaviour list, run against the real kernel for each cgroup backend the host
// offers: cgroup-v1 on hybrid hosts, cgroup-v2 on pure v2 hosts (tests/vm/cgroup2-vm). The other backend's cases
// skip with the reason. Kernel files are read back directly, not through the driver under test.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "mcore/error.hpp"
#include "mcore/plugin.hpp"
#include "engine/context/plugin_loader.hpp"
#include "kit_internal.hpp"
#include "mcore/resource_driver.hpp"
#include "plugin_driver.hpp"
#include "test_support.hpp"

namespace {
namespace fs = std::filesystem;
using mcore::test::read_text;
using namespace std::chrono_literals;
// The conformance kit's harness for forked children.
using mcore::conformance::detail::Child;
using mcore::conformance::detail::describe_status;
using mcore::conformance::detail::Shared;
using mcore::conformance::detail::wait_until;

constexpr std::int64_t kMiB = 1024 * 1024;
const char* const kV1Controllers[] = {"memory", "cpu", "cpuacct", "cpuset", "pids", "freezer"};

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}


// What the host offers, found from /proc without the drivers' code.
struct HostCgroups {
  std::map<std::string, std::string> v1_own;  // v1 controller -> this process's group
  std::optional<fs::path> v2_mount;
  std::string v2_own = "/";

  static const HostCgroups& get() {
    static const HostCgroups host = [] {
      HostCgroups out;
      std::istringstream self(read_text("/proc/self/cgroup"));
      std::string line;
      while (std::getline(self, line)) {
        auto first = line.find(':');
        auto second = line.find(':', first + 1);
        std::string controllers = line.substr(first + 1, second - first - 1);
        std::string path = line.substr(second + 1);
        if (controllers.empty()) out.v2_own = path;
        std::istringstream names(controllers);
        std::string name;
        while (std::getline(names, name, ',')) out.v1_own[name] = path;
      }
      std::istringstream mounts(read_text("/proc/self/mountinfo"));
      while (std::getline(mounts, line)) {
        std::istringstream fields(line);
        std::string id, parent, devno, root, target, word;
        fields >> id >> parent >> devno >> root >> target;
        while (fields >> word && word != "-") {
        }
        fields >> word;
        if (word == "cgroup2" && !out.v2_mount) out.v2_mount = target;
      }
      return out;
    }();
    return host;
  }

  fs::path v2_own_dir() const { return *v2_mount / fs::path(v2_own).relative_path(); }

  // Empty when the host offers `driver`'s backend, else why not.
  std::string unavailable(const std::string& driver) const {
    if (driver == "cgroup-v1") {
      for (const char* controller : kV1Controllers) {
        if (!v1_own.contains(controller) || !fs::is_directory(fs::path("/sys/fs/cgroup") / controller)) {
          return std::string("no cgroup v1 ") + controller + " hierarchy (a pure cgroup v2 host)";
        }
      }
      return {};
    }
    if (!v2_mount) return "no cgroup2 filesystem mounted";
    std::string controllers = read_text(v2_own_dir() / "cgroup.controllers");
    for (const char* controller : {"memory", "cpu", "pids"}) {
      if (controllers.find(controller) == std::string::npos) {
        return "the cgroup v2 hierarchy at " + v2_mount->string() + " has no " + controller +
               " controller (a hybrid host: controllers are on cgroup v1)";
      }
    }
    return {};
  }
};

// The plugin file of resource driver `driver` in the build tree.
std::string plugin_file(const std::string& driver) { return "mcore-resource-" + driver + ".so"; }




std::string random_name() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> digit(0, 15);
  std::string out;
  for (int i = 0; i < 10; ++i) out += "0123456789abcdef"[digit(device)];
  return out;
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

class ResourceDriverTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    if (auto reason = HostCgroups::get().unavailable(GetParam()); !reason.empty()) {
      GTEST_SKIP() << GetParam() << " does not run here: " << reason;
    }
    parent_ = "mcore-test-" + random_name();
    driver_ = make_driver({{"cgroup_parent", parent_}});
  }

  void TearDown() override {
    if (driver_) {
      for (const auto& id : created_) {
        try {
          driver_->destroy(id);
        } catch (const std::exception& error) {
          ADD_FAILURE() << "destroy " << id << ": " << error.what();
        }
      }
    }
    driver_.reset();
    if (parent_.empty()) return;
    mcore::test::remove_cgroup_tree(parent_);
    for (const auto& dir : hierarchy_dirs(parent_))
      EXPECT_FALSE(fs::exists(dir)) << dir << " was left behind";
  }

  bool v1() const { return GetParam() == "cgroup-v1"; }

  std::shared_ptr<mcore::ResourceDriver> make_driver(const nlohmann::json& config) {
    // The descriptor as mcore's own loader reads it.
    const auto info = mcore::engine::PluginLoader({MCORE_PLUGIN_BUILD_DIR})
                          .inspect(fs::path(MCORE_PLUGIN_BUILD_DIR) / plugin_file(GetParam()));
    EXPECT_TRUE(info.compatible) << info.problem;
    EXPECT_EQ(info.kind, "resource");
    EXPECT_EQ(info.name, GetParam());
    mcore::HostContext context;
    context.logger =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_));
    context.config = config;
    context.config_path = "resource";
    context.data_root = roots_.path() / "data";
    context.state_root = roots_.path() / "state";
    return mcore::test::load_plugin_driver<mcore::ResourceDriver>(plugin_file(GetParam()), context);
  }

  std::string create(const mcore::ResourceLimits& limits = {}) {
    std::string id = "c" + random_name();
    driver_->create({id, limits});
    created_.push_back(id);
    return id;
  }

  // `relative` (below this process's own group) in every hierarchy the backend uses.
  std::vector<fs::path> hierarchy_dirs(const std::string& relative) const {
    const auto& host = HostCgroups::get();
    if (!v1()) return {host.v2_own_dir() / relative};
    std::vector<fs::path> dirs;
    for (const char* controller : kV1Controllers) dirs.push_back(dir_of(controller, relative));
    return dirs;
  }
  fs::path dir_of(const std::string& controller, const std::string& relative) const {
    const auto& host = HostCgroups::get();
    if (!v1()) return host.v2_own_dir() / relative;
    return fs::path("/sys/fs/cgroup") / controller / fs::path(host.v1_own.at(controller)).relative_path() /
           relative;
  }
  fs::path group_dir(const std::string& controller, const std::string& id) const {
    return dir_of(controller, parent_ + "/" + id);
  }
  std::string knob(const std::string& controller, const std::string& id, const std::string& file) const {
    fs::path path = group_dir(controller, id) / file;
    EXPECT_TRUE(fs::exists(path)) << path;
    return trimmed(read_text(path));
  }
  std::optional<std::string> swap_knob(const std::string& id) const {
    fs::path path = group_dir("memory", id) / (v1() ? "memory.memsw.limit_in_bytes" : "memory.swap.max");
    if (!fs::exists(path)) return std::nullopt;
    return trimmed(read_text(path));
  }
  bool group_exists_anywhere(const std::string& id) const {
    for (const auto& dir : hierarchy_dirs(parent_ + "/" + id)) {
      if (fs::exists(dir)) return true;
    }
    return false;
  }

  mcore::test::TempDir roots_{"mcore-resource-test"};
  std::ostringstream log_;
  std::string parent_;
  std::shared_ptr<mcore::ResourceDriver> driver_;
  std::vector<std::string> created_;
};

TEST_P(ResourceDriverTest, WritesLimitsToTheKernel) {
  mcore::ResourceLimits limits;
  limits.memory_bytes = 64 * kMiB;
  limits.memory_swap_bytes = 96 * kMiB;
  limits.nano_cpus = 500'000'000;
  limits.cpu_shares = 512;
  limits.cpuset_cpus = "0";
  limits.cpuset_mems = "0";
  limits.pids_limit = 50;
  std::string id = create(limits);

  const auto& host = HostCgroups::get();
  std::string own = v1() ? host.v1_own.at("memory") : host.v2_own;
  EXPECT_EQ(driver_->group_path(id), (own == "/" ? "" : own) + "/" + parent_ + "/" + id);
  EXPECT_EQ(knob("cpuset", id, "cpuset.cpus"), "0");
  EXPECT_EQ(knob("cpuset", id, "cpuset.mems"), "0");
  EXPECT_EQ(knob("pids", id, "pids.max"), "50");
  if (v1()) {
    EXPECT_EQ(knob("memory", id, "memory.limit_in_bytes"), std::to_string(64 * kMiB));
    EXPECT_EQ(knob("cpu", id, "cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(knob("cpu", id, "cpu.cfs_period_us"), "100000");
    EXPECT_EQ(knob("cpu", id, "cpu.shares"), "512");
  } else {
    EXPECT_EQ(knob("memory", id, "memory.max"), std::to_string(64 * kMiB));
    EXPECT_EQ(knob("cpu", id, "cpu.max"), "50000 100000");
    EXPECT_EQ(knob("cpu", id, "cpu.weight"), "20");  // 1 + (512 - 2) * 9999 / 262142
  }
  // Docker's memory_swap is memory plus swap; v2 limits the swap part alone.
  if (auto swap = swap_knob(id)) {
    EXPECT_EQ(*swap, std::to_string(v1() ? 96 * kMiB : 32 * kMiB));
  } else {
    std::cout << "[ INFO     ] no swap accounting on this host; swap limit not checked\n";
  }
}

TEST_P(ResourceDriverTest, AllowsSwapEqualToMemoryByDefaultAndUnlimitedOnRequest) {
  mcore::ResourceLimits memory_only;
  memory_only.memory_bytes = 32 * kMiB;
  memory_only.pids_limit = 0;
  std::string id = create(memory_only);
  EXPECT_EQ(knob("pids", id, "pids.max"), "max");
  auto swap = swap_knob(id);
  if (!swap) GTEST_SKIP() << "no swap accounting on this host";
  EXPECT_EQ(*swap, std::to_string(v1() ? 64 * kMiB : 32 * kMiB));

  mcore::ResourceLimits unlimited_swap;
  unlimited_swap.memory_bytes = 32 * kMiB;
  unlimited_swap.memory_swap_bytes = -1;
  std::string unlimited = create(unlimited_swap);
  if (v1()) {
    EXPECT_GE(std::stoull(*swap_knob(unlimited)), 1ULL << 62) << "memsw should read as unlimited";
  } else {
    EXPECT_EQ(*swap_knob(unlimited), "max");
  }
}

TEST_P(ResourceDriverTest, AddProcessPlacesTheProcessAndListShowsTheContainer) {
  std::string id = create();
  Child child([] {
    ::pause();
    return 0;
  });
  driver_->add_process(id, child.pid());
  child.start();
  for (const char* controller : kV1Controllers) {
    std::string procs = knob(controller, id, "cgroup.procs");
    EXPECT_EQ(procs, std::to_string(child.pid())) << controller << " cgroup.procs";
    if (!v1()) break;
  }
  std::string proc_cgroup = read_text("/proc/" + std::to_string(child.pid()) + "/cgroup");
  EXPECT_NE(proc_cgroup.find(parent_ + "/" + id), std::string::npos) << proc_cgroup;

  auto ids = driver_->list();
  EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << "list() misses " << id;
  auto stats = driver_->stats(id);
  EXPECT_EQ(stats.pids_current, 1u);
  EXPECT_EQ(stats.pids_limit, 0u) << "no pids limit was set";
  EXPECT_EQ(stats.memory_limit_bytes, 0u) << "no memory limit was set";
}

TEST_P(ResourceDriverTest, StatsReportUsageAndLimits) {
  mcore::ResourceLimits limits;
  limits.memory_bytes = 64 * kMiB;
  limits.pids_limit = 20;
  std::string id = create(limits);
  Child child([] {
    // Burn some CPU and touch 8 MiB, then wait to be killed.
    std::vector<char> memory(8 * kMiB, 1);
    volatile std::uint64_t sum = 0;
    auto until = std::chrono::steady_clock::now() + 100ms;
    while (std::chrono::steady_clock::now() < until) sum = sum + memory[sum % memory.size()];
    ::pause();
    return 0;
  });
  driver_->add_process(id, child.pid());
  child.start();
  mcore::ResourceStats stats;
  EXPECT_TRUE(wait_until(
      [&] {
        stats = driver_->stats(id);
        return stats.cpu_usage_ns >= 50'000'000 && stats.memory_usage_bytes >= 8u * kMiB;
      },
      20s))
      << "cpu_usage_ns " << stats.cpu_usage_ns << ", memory_usage_bytes " << stats.memory_usage_bytes;
  EXPECT_EQ(stats.memory_limit_bytes, 64u * kMiB);
  EXPECT_EQ(stats.pids_current, 1u);
  EXPECT_EQ(stats.pids_limit, 20u);
  EXPECT_EQ(stats.oom_kills, 0u);
}

TEST_P(ResourceDriverTest, PidsLimitStopsAForkLoop) {
  mcore::ResourceLimits limits;
  limits.pids_limit = 4;
  std::string id = create(limits);
  struct Result {
    std::atomic<bool> done{false};
    int forks = 0;
    int error = 0;
  };
  Shared<Result> result;
  Child child([&] {
    for (int i = 0; i < 16; ++i) {
      pid_t pid = ::fork();
      if (pid == 0) {
        ::pause();
        ::_exit(0);
      }
      if (pid < 0) {
        result->error = errno;
        break;
      }
      ++result->forks;
    }
    result->done = true;
    ::pause();
    return 0;
  });
  driver_->add_process(id, child.pid());
  child.start();
  ASSERT_TRUE(wait_until([&] { return result->done.load(); }, 20s)) << "the fork loop did not finish";
  EXPECT_EQ(result->forks, 3) << "the child plus 3 forks make the limit of 4";
  EXPECT_EQ(result->error, EAGAIN) << "fork failed with " << strerror(result->error);
  EXPECT_EQ(driver_->stats(id).pids_current, 4u);

  driver_->destroy(id);
  int status = child.wait(60s);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << describe_status(status);
  EXPECT_FALSE(group_exists_anywhere(id));
}

TEST_P(ResourceDriverTest, MemoryLimitTriggersTheOomKiller) {
  mcore::ResourceLimits limits;
  limits.memory_bytes = 16 * kMiB;
  limits.memory_swap_bytes = 16 * kMiB;  // no swap to escape into
  std::string id = create(limits);
  Child child([] {
    constexpr std::size_t kSize = 64 * kMiB;
    void* memory = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return 2;
    for (std::size_t offset = 0; offset < kSize; offset += 4096)
      static_cast<volatile char*>(memory)[offset] = 1;
    return 0;
  });
  driver_->add_process(id, child.pid());
  child.start();
  int status = child.wait(60s);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "touching 64 MiB under a 16 MiB limit should end in SIGKILL, saw " << describe_status(status);
  EXPECT_GE(driver_->stats(id).oom_kills, 1u);
}

TEST_P(ResourceDriverTest, FreezeStopsProcessesAndThawResumesThem) {
  std::string id = create();
  Shared<std::atomic<std::uint64_t>> counter;
  Child child([&] {
    for (;;) counter->fetch_add(1, std::memory_order_relaxed);
    return 0;
  });
  driver_->add_process(id, child.pid());
  child.start();
  ASSERT_TRUE(wait_until([&] { return counter->load() > 0; }, 10s)) << "the counter never started";

  driver_->freeze(id);
  driver_->freeze(id);  // idempotent
  std::uint64_t frozen_at = counter->load();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(counter->load(), frozen_at) << "the counter advanced while frozen";

  driver_->thaw(id);
  driver_->thaw(id);  // idempotent
  EXPECT_TRUE(wait_until([&] { return counter->load() > frozen_at; }, 10s)) << "the counter did not resume";
}

TEST_P(ResourceDriverTest, KillAllSignalsEveryProcess) {
  std::string id = create();
  auto sleeper = [] {
    ::pause();
    return 0;
  };
  Child first(sleeper);
  Child second(sleeper);
  for (Child* child : {&first, &second}) {
    driver_->add_process(id, child->pid());
    child->start();
  }
  driver_->kill_all(id, SIGTERM);
  for (Child* child : {&first, &second}) {
    int status = child->wait(10s);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << describe_status(status);
  }

  // SIGKILL reaches a frozen group too.
  Child frozen(sleeper);
  driver_->add_process(id, frozen.pid());
  frozen.start();
  driver_->freeze(id);
  driver_->kill_all(id, SIGKILL);
  int status = frozen.wait(10s);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << describe_status(status);
}

TEST_P(ResourceDriverTest, DestroyKillsAndRemovesTheGroupAndIsIdempotent) {
  mcore::ResourceLimits limits;
  limits.memory_bytes = 64 * kMiB;
  limits.pids_limit = 10;
  std::string id = create(limits);
  Child child([] {
    ::pause();
    return 0;
  });
  driver_->add_process(id, child.pid());
  child.start();

  driver_->destroy(id);
  int status = child.wait(10s);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << describe_status(status);
  EXPECT_FALSE(group_exists_anywhere(id));
  auto ids = driver_->list();
  EXPECT_EQ(std::find(ids.begin(), ids.end(), id), ids.end()) << "list() still shows " << id;
  EXPECT_NO_THROW(driver_->destroy(id));
  EXPECT_NO_THROW(driver_->destroy("never-created"));
  EXPECT_THROW(driver_->stats(id), mcore::Error);
}

TEST_P(ResourceDriverTest, RefusesInvalidLimitsAndLeavesNothingBehind) {
  auto limits = [](auto set) {
    mcore::ResourceLimits out;
    set(out);
    return out;
  };
  struct Case {
    mcore::ResourceLimits limits;
    std::string expected;
  };
  std::vector<Case> cases = {
      {limits([](auto& l) { l.memory_bytes = 1 * kMiB; }), "Minimum memory limit allowed is 6MB"},
      {limits([](auto& l) {
         l.memory_bytes = 64 * kMiB;
         l.memory_swap_bytes = 32 * kMiB;
       }),
       "Minimum memoryswap limit should be larger than memory limit"},
      {limits([](auto& l) { l.memory_swap_bytes = 64 * kMiB; }), "You should always set the Memory limit"},
      {limits([](auto& l) { l.nano_cpus = 100'000 * 1'000'000'000LL; }), "Range of CPUs is from 0.01 to"},
      {limits([](auto& l) { l.cpu_shares = 1; }), "cpu_shares 1: must be between 2 and 262144"},
      {limits([](auto& l) { l.cpuset_cpus = "0-"; }), "cpuset_cpus \"0-\": not a list"},
      // Refused only once the parent's effective set is read: the group has been created by then.
      {limits([](auto& l) { l.cpuset_cpus = "999"; }), "cpuset 999 is not available; this host has "},
      {limits([](auto& l) { l.cpuset_mems = "77"; }), "cpuset 77 is not available; this host has "},
  };
  for (const auto& test_case : cases) {
    std::string id = "c" + random_name();
    try {
      driver_->create({id, test_case.limits});
      created_.push_back(id);
      ADD_FAILURE() << "accepted; expected \"" << test_case.expected << "\"";
    } catch (const mcore::Error& error) {
      EXPECT_NE(std::string(error.what()).find(test_case.expected), std::string::npos)
          << "expected \"" << test_case.expected << "\", saw \"" << error.what() << "\"";
      EXPECT_FALSE(error.hint().empty()) << error.what();
    }
    EXPECT_FALSE(group_exists_anywhere(id)) << test_case.expected << ": the group was left behind";
  }
  EXPECT_THROW(driver_->create({"../escape", {}}), mcore::Error);
  EXPECT_TRUE(driver_->list().empty());
}

// cgroup-v2 writes hugetlb.<size>.max (run in the cgroup v2 VM, whose x86-64 kernel has 2 MB pages);
// cgroup-v1 has no huge page control and says so. Sizes are checked as the kernel names them.
TEST_P(ResourceDriverTest, LimitsHugePagesOrSaysItCannot) {
  const std::string id = create();
  const auto error_of = [&](const std::string& size) -> std::string {
    try {
      driver_->limit_hugepages(id, {{size, 8 * kMiB}});
    } catch (const mcore::Error& error) {
      EXPECT_FALSE(error.hint().empty()) << error.what();
      return error.what();
    }
    return "";
  };
  if (v1()) {
    EXPECT_NE(error_of("2MB").find("this resource driver cannot limit huge pages"), std::string::npos);
    return;
  }
  if (!fs::exists("/sys/kernel/mm/hugepages/hugepages-2048kB")) GTEST_SKIP() << "no 2 MB huge pages here";
  EXPECT_EQ(error_of("2MB"), "");
  EXPECT_EQ(knob("hugetlb", id, "hugetlb.2MB.max"), std::to_string(8 * kMiB));
  EXPECT_NE(error_of("2XB").find("huge page size \"2XB\": not a size as the kernel writes it"),
            std::string::npos);
  EXPECT_NE(error_of("3MB").find("huge page size 3MB: this kernel has no huge pages of that size"),
            std::string::npos);
  EXPECT_NE(error_of("MB").find("not a size"), std::string::npos);
}

TEST_P(ResourceDriverTest, RefusesToCreateAnExistingGroupAndKeepsIt) {
  mcore::ResourceLimits limits;
  limits.pids_limit = 7;
  std::string id = create(limits);
  try {
    driver_->create({id, {}});
    ADD_FAILURE() << "a second create of " << id << " succeeded";
  } catch (const mcore::Error& error) {
    EXPECT_NE(std::string(error.what()).find("already exists"), std::string::npos) << error.what();
  }
  for (const auto& dir : hierarchy_dirs(parent_ + "/" + id)) EXPECT_TRUE(fs::is_directory(dir)) << dir;
  EXPECT_EQ(knob("pids", id, "pids.max"), "7");
}

TEST_P(ResourceDriverTest, CreatesANestedParentThatTasksCanJoin) {
  auto nested = make_driver({{"cgroup_parent", parent_ + "/inner/deeper"}});
  std::string id = "c" + random_name();
  nested->create({id, {}});
  Child child([] {
    ::pause();
    return 0;
  });
  try {
    nested->add_process(id, child.pid());
    child.start();
  } catch (const std::exception& error) {
    ADD_FAILURE() << error.what();
  }
  if (v1()) {
    // New v1 cpuset groups must carry CPUs and memory nodes before a task may join.
    EXPECT_FALSE(
        trimmed(read_text(dir_of("cpuset", parent_ + "/inner/deeper/" + id) / "cpuset.cpus")).empty());
  } else {
    std::string delegated = read_text(dir_of("", parent_ + "/inner/deeper") / "cgroup.subtree_control");
    for (const char* controller : {"cpu", "cpuset", "memory", "pids"}) {
      EXPECT_NE(delegated.find(controller), std::string::npos) << "subtree_control: " << delegated;
    }
  }
  EXPECT_EQ(nested->list(), std::vector<std::string>{id});
  nested->destroy(id);
  int status = child.wait(10s);
  EXPECT_TRUE(WIFSIGNALED(status)) << describe_status(status);
}

TEST_P(ResourceDriverTest, PlacesAnAbsoluteParentBelowTheHierarchyRoot) {
  // Only where this process sits at the root (the VM): elsewhere it would create groups outside our own.
  const auto& host = HostCgroups::get();
  bool at_root = v1() ? std::all_of(std::begin(kV1Controllers), std::end(kV1Controllers),
                                    [&](const char* c) { return host.v1_own.at(c) == "/"; })
                      : host.v2_own == "/";
  if (!at_root) GTEST_SKIP() << "this process is not in the root group";
  auto absolute = make_driver({{"cgroup_parent", "/" + parent_}});
  std::string id = "c" + random_name();
  absolute->create({id, {}});
  EXPECT_EQ(absolute->group_path(id), "/" + parent_ + "/" + id);
  for (const auto& dir : hierarchy_dirs(parent_ + "/" + id)) EXPECT_TRUE(fs::is_directory(dir)) << dir;
  absolute->destroy(id);
  EXPECT_FALSE(group_exists_anywhere(id));
}

TEST_P(ResourceDriverTest, ExplainsTheNoInternalProcessesRule) {
  if (v1()) GTEST_SKIP() << "a cgroup v2 rule";
  create();  // makes the parent, delegating the controllers
  fs::path leaf = dir_of("", parent_ + "/leaf");
  ASSERT_TRUE(fs::create_directory(leaf)) << leaf;
  struct Message {
    char text[2048] = {};
  };
  Shared<Message> message;
  // A child that runs in a group of its own and asks for a parent below it: v2 cannot delegate from there.
  Child child([&] {
    std::ofstream(leaf / "cgroup.procs") << ::getpid() << std::flush;
    try {
      make_driver({{"cgroup_parent", "inner"}})->create({"c1", {}});
      std::snprintf(message->text, sizeof message->text, "accepted");
    } catch (const mcore::Error& error) {
      std::snprintf(message->text, sizeof message->text, "%s | hint: %s", error.what(), error.hint().c_str());
    }
    return 0;
  });
  child.start();
  int status = child.wait(20s);
  EXPECT_TRUE(WIFEXITED(status)) << describe_status(status);
  std::string text = message->text;
  EXPECT_NE(text.find("no-internal-processes"), std::string::npos) << text;
  EXPECT_NE(text.find("absolute path such as \"/mcore\""), std::string::npos) << text;
}

TEST_P(ResourceDriverTest, RejectsBadConfig) {
  auto expect_refused = [&](const nlohmann::json& config, const std::string& expected) {
    try {
      make_driver(config);
      ADD_FAILURE() << config.dump() << " was accepted";
    } catch (const mcore::Error& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos)
          << "expected \"" << expected << "\", saw \"" << error.what() << "\"";
    }
  };
  expect_refused({{"cgroup_parnt", "x"}}, "resource.cgroup_parnt: unknown key");
  expect_refused({{"cgroup_parent", 5}}, "resource.cgroup_parent: expected a string");
  expect_refused({{"cgroup_parent", "a/../b"}}, "may not contain");
  expect_refused({{"cgroup_parent", "/"}}, "names no group");
}

INSTANTIATE_TEST_SUITE_P(Backends, ResourceDriverTest, ::testing::Values("cgroup-v1", "cgroup-v2"),
                         param_name);

// A driver whose backend the host lacks refuses to be built, naming why.
class ResourceDriverHostTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ResourceDriverHostTest, RefusesAHostWithoutItsBackend) {
  MCORE_REQUIRE_ROOT();
  if (HostCgroups::get().unavailable(GetParam()).empty()) GTEST_SKIP() << "this host offers " << GetParam();
  mcore::HostContext context;
  context.config = {{"cgroup_parent", "mcore-test-unused"}};
  context.config_path = "resource";
  try {
    mcore::test::load_plugin_driver<mcore::ResourceDriver>(plugin_file(GetParam()), context);
    ADD_FAILURE() << GetParam() << " was built on a host without its backend";
  } catch (const mcore::Error& error) {
    EXPECT_NE(std::string(error.what()).find(GetParam() + ": "), std::string::npos) << error.what();
    EXPECT_FALSE(error.hint().empty()) << error.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ResourceDriverHostTest, ::testing::Values("cgroup-v1", "cgroup-v2"),
                         param_name);

}  // namespace
