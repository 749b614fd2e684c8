#include "mcore/conformance/resource_conformance.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

#include "kit_internal.hpp"
#include "mcore/resource_driver.hpp"

namespace mcore::conformance {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using detail::Child;
using detail::describe_status;
using detail::mentions;
using detail::Shared;
using detail::throws_error;
using detail::wait_until;

namespace {

constexpr std::int64_t kMiB = 1024 * 1024;

int sleep_forever() {
  for (;;) ::pause();
}

bool killed_by(int status, int signal) { return WIFSIGNALED(status) && WTERMSIG(status) == signal; }

bool listed(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// An errno from opening `path` read-only in a child placed in the group; 0 when it opened.
struct OpenResult {
  int error = -1;
};

}  // namespace

void PrintTo(const ResourceTarget& target, std::ostream* out) { *out << "resource driver " << target.name; }

struct ResourceConformance::State {
  const ResourceTarget* target = nullptr;
  std::unique_ptr<detail::DriverHarness> harness;
  std::string parent;
  std::shared_ptr<ResourceDriver> driver;
  std::vector<std::string> created;  // destroyed at the end

  std::string new_id() const { return detail::random_hex(64); }
  std::string create(const ResourceLimits& limits = {}, bool unrestricted_devices = false,
                     std::vector<DeviceAllowance> allowed_devices = {}) {
    std::string id = new_id();
    created.push_back(id);
    driver->create({id, limits, unrestricted_devices, std::move(allowed_devices)});
    return id;
  }
  // The errno of opening `path` read-only in a child placed in group `id`; 0 when it opened.
  int open_in_group(const std::string& id, const fs::path& path) {
    Shared<OpenResult> result;
    Child child([&] {
      const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      result->error = fd >= 0 ? 0 : errno;
      return 0;
    });
    driver->add_process(id, child.pid());
    child.start();
    const int status = child.wait(10s);
    EXPECT_TRUE(WIFEXITED(status)) << describe_status(status);
    return result->error;
  }
  // A child that sleeps once started, placed in group `id`.
  std::unique_ptr<Child> sleeper_in(const std::string& id) {
    auto child = std::make_unique<Child>(sleep_forever);
    driver->add_process(id, child->pid());
    child->start();
    return child;
  }
};

ResourceConformance::ResourceConformance() : state_(std::make_unique<State>()) {}
ResourceConformance::~ResourceConformance() = default;

void ResourceConformance::SetUp() {
  const ResourceTarget& target = GetParam();
  state_->target = &target;
  if (auto reason = detail::skip_reason(target.unavailable, true); !reason.empty()) GTEST_SKIP() << reason;
  ASSERT_TRUE(target.config) << "the target has no config function";
  state_->harness = std::make_unique<detail::DriverHarness>("/var/tmp", target.name);
  state_->parent = target.cgroup_parent_prefix + "-" + detail::random_hex(10);
  state_->driver = detail::make_driver<ResourceDriver>(
      target.factory, state_->harness->context(target.config(state_->parent), "resource"), "ResourceDriver");
}

void ResourceConformance::TearDown() {
  if (state_->driver) {
    for (const auto& id : state_->created) {
      try {
        state_->driver->destroy(id);
      } catch (const std::exception& error) {
        ADD_FAILURE() << "destroy " << id << " at the end of the case: " << error.what();
      }
    }
    try {
      const auto left = state_->driver->list();
      EXPECT_TRUE(left.empty()) << left.size() << " group(s) left below " << state_->parent
                                << " after destroy";
    } catch (const std::exception& error) {
      ADD_FAILURE() << "list at the end of the case: " << error.what();
    }
  }
  state_->driver.reset();
  if (!state_->parent.empty() && GetParam().remove_parent) GetParam().remove_parent(state_->parent);
  if (state_->harness) state_->harness->report_log_on_failure();
  state_->harness.reset();
}

TEST_P(ResourceConformance, CreateListStatsAndDestroyRoundTrip) {
  const std::string id = state_->create();
  EXPECT_TRUE(listed(state_->driver->list(), id)) << "list() misses the new group";
  EXPECT_TRUE(mentions(state_->driver->group_path(id), id)) << "group_path names the container";
  const ResourceStats stats = state_->driver->stats(id);
  EXPECT_EQ(stats.pids_current, 0u) << "no process was placed yet";
  EXPECT_EQ(stats.memory_limit_bytes, 0u) << "no memory limit was set";
  EXPECT_EQ(stats.pids_limit, 0u) << "no pids limit was set";

  state_->driver->destroy(id);
  EXPECT_FALSE(listed(state_->driver->list(), id)) << "list() still shows the destroyed group";
  EXPECT_TRUE(throws_error([&] { state_->driver->stats(id); })) << "stats of a destroyed group";
  EXPECT_NO_THROW(state_->driver->destroy(id)) << "a second destroy must be a no-op";
  EXPECT_NO_THROW(state_->driver->destroy(state_->new_id())) << "destroying an unknown id must be a no-op";
}

TEST_P(ResourceConformance, StatsReportTheLimitsSet) {
  ResourceLimits limits;
  limits.memory_bytes = 64 * kMiB;
  limits.pids_limit = 20;
  const std::string id = state_->create(limits);
  const ResourceStats stats = state_->driver->stats(id);
  EXPECT_EQ(stats.memory_limit_bytes, static_cast<std::uint64_t>(64 * kMiB));
  EXPECT_EQ(stats.pids_limit, 20u);
}

TEST_P(ResourceConformance, InvalidLimitsAreRefusedByNameAndLeaveNothing) {
  struct Case {
    const char* what;
    ResourceLimits limits;
    const char* named;  // a word the error must contain
  };
  std::vector<Case> cases(3);
  cases[0] = {"cpu_shares 1 (below 2)", {}, "shares"};
  cases[0].limits.cpu_shares = 1;
  cases[1] = {"cpu_shares 262145 (above 262144)", {}, "shares"};
  cases[1].limits.cpu_shares = 262145;
  cases[2] = {"cpuset_cpus \"0-\" (not a list)", {}, "cpuset"};
  cases[2].limits.cpuset_cpus = "0-";
  for (const auto& test_case : cases) {
    const std::string id = state_->new_id();
    std::string message;
    if (!throws_error([&] { state_->driver->create({id, test_case.limits, false, {}}); }, &message)) {
      state_->created.push_back(id);
      ADD_FAILURE() << test_case.what << " was accepted";
      continue;
    }
    EXPECT_TRUE(mentions(message, test_case.named)) << test_case.what << ": the error names the limit";
    EXPECT_FALSE(listed(state_->driver->list(), id)) << test_case.what << ": the refused group is listed";
    // Nothing half-made stands in the way of a valid create of the same id.
    state_->created.push_back(id);
    EXPECT_NO_THROW(state_->driver->create({id, {}, false, {}})) << test_case.what << ": then a valid create";
  }
}

TEST_P(ResourceConformance, AddProcessPlacesTheProcessInTheGroup) {
  const std::string id = state_->create();
  const auto child = state_->sleeper_in(id);
  EXPECT_EQ(state_->driver->stats(id).pids_current, 1u);
  const std::string cgroups = detail::read_file("/proc/" + std::to_string(child->pid()) + "/cgroup");
  EXPECT_TRUE(mentions(cgroups, state_->driver->group_path(id))) << "the process's /proc/<pid>/cgroup";
}

TEST_P(ResourceConformance, DestroyKillsWhatRunsAndRemovesTheGroup) {
  const std::string id = state_->create();
  auto first = state_->sleeper_in(id);
  auto second = state_->sleeper_in(id);
  state_->driver->destroy(id);
  for (auto* child : {first.get(), second.get()}) {
    const int status = child->wait(10s);
    EXPECT_TRUE(killed_by(status, SIGKILL)) << describe_status(status);
  }
  EXPECT_FALSE(listed(state_->driver->list(), id));
  EXPECT_NO_THROW(state_->driver->destroy(id));
}

TEST_P(ResourceConformance, FreezeAndThawAreIdempotent) {
  const std::string id = state_->create();
  Shared<std::atomic<std::uint64_t>> counter;
  Child child([&] {
    for (;;) counter->fetch_add(1, std::memory_order_relaxed);
    return 0;
  });
  state_->driver->add_process(id, child.pid());
  child.start();
  ASSERT_TRUE(wait_until([&] { return counter->load() > 0; }, 10s)) << "the counting child never ran";
  state_->driver->freeze(id);
  EXPECT_NO_THROW(state_->driver->freeze(id)) << "freezing a frozen group";
  const std::uint64_t frozen_at = counter->load();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(counter->load(), frozen_at) << "the process ran while frozen";
  state_->driver->thaw(id);
  EXPECT_NO_THROW(state_->driver->thaw(id)) << "thawing a thawed group";
  EXPECT_TRUE(wait_until([&] { return counter->load() > frozen_at; }, 10s)) << "the process did not resume";
}

TEST_P(ResourceConformance, KillAllSignalsEveryProcess) {
  const std::string id = state_->create();
  auto first = state_->sleeper_in(id);
  auto second = state_->sleeper_in(id);
  state_->driver->kill_all(id, SIGTERM);
  for (auto* child : {first.get(), second.get()}) {
    const int status = child->wait(10s);
    EXPECT_TRUE(killed_by(status, SIGTERM)) << describe_status(status);
  }
}

TEST_P(ResourceConformance, ThePidsLimitHolds) {
  ResourceLimits limits;
  limits.pids_limit = 4;
  const std::string id = state_->create(limits);
  struct Result {
    std::atomic<bool> done{false};
    int forks = 0;
    int error = 0;
  };
  Shared<Result> result;
  Child child([&] {
    for (int i = 0; i < 16; ++i) {
      const pid_t pid = ::fork();
      if (pid == 0) sleep_forever();
      if (pid < 0) {
        result->error = errno;
        break;
      }
      ++result->forks;
    }
    result->done = true;
    return sleep_forever();
  });
  state_->driver->add_process(id, child.pid());
  child.start();
  ASSERT_TRUE(wait_until([&] { return result->done.load(); }, 20s)) << "the fork loop did not finish";
  EXPECT_EQ(result->forks, 3) << "the child and 3 forks make the limit of 4";
  EXPECT_EQ(result->error, EAGAIN);
  state_->driver->destroy(id);  // kills the forks too
  child.wait(10s);
}

TEST_P(ResourceConformance, OnlyDefaultDevicesOpenUnlessUnrestricted) {
  // /dev/kmsg (char 1:11) is not among Docker's default devices; /dev/null is.
  if (!fs::exists("/dev/kmsg") || !fs::exists("/dev/null")) GTEST_SKIP() << "no /dev/kmsg or /dev/null here";
  const fs::path node = state_->harness->scratch() / "kmsg-node";
  const auto open_in_group = [&](const std::string& id, const fs::path& path) { return state_->open_in_group(id, path); };
  const std::string restricted = state_->create();
  EXPECT_EQ(open_in_group(restricted, "/dev/null"), 0) << "/dev/null is a default device";
  EXPECT_EQ(open_in_group(restricted, "/dev/kmsg"), EPERM) << "/dev/kmsg opened in a restricted group";
  // Any device may be created, not opened.
  Shared<OpenResult> made;
  Child maker([&] {
    made->error = ::mknod(node.c_str(), S_IFCHR | 0600, makedev(1, 11)) == 0 ? 0 : errno;
    return 0;
  });
  state_->driver->add_process(restricted, maker.pid());
  maker.start();
  maker.wait(10s);
  EXPECT_EQ(made->error, 0) << "mknod in a restricted group: " << std::strerror(made->error);
  if (made->error == 0) {
    EXPECT_EQ(open_in_group(restricted, node), EPERM) << "a created device node opened";
  }

  const std::string unrestricted = state_->create({}, true);
  EXPECT_EQ(open_in_group(unrestricted, "/dev/kmsg"), 0) << "/dev/kmsg in an unrestricted group";
}

TEST_P(ResourceConformance, AllowedDevicesOpenAndNoOthers) {
  // /dev/kmsg (char 1:11) allowed for reading; a node of char 1:1 (mem) stays closed.
  if (!fs::exists("/dev/kmsg")) GTEST_SKIP() << "no /dev/kmsg here";
  const fs::path mem = state_->harness->scratch() / "mem-node";
  ASSERT_EQ(::mknod(mem.c_str(), S_IFCHR | 0600, makedev(1, 1)), 0) << std::strerror(errno);
  const std::string id = state_->create({}, false, {{'c', 1, 11, "r"}});
  EXPECT_EQ(state_->open_in_group(id, "/dev/kmsg"), 0) << "/dev/kmsg was allowed";
  EXPECT_EQ(state_->open_in_group(id, mem), EPERM) << "char 1:1 was not allowed";
  EXPECT_EQ(state_->open_in_group(id, "/dev/null"), 0) << "the defaults stay allowed";

  const std::string refused = state_->new_id();
  std::string message;
  EXPECT_TRUE(throws_error([&] { state_->driver->create({refused, {}, false, {{'x', 1, 11, "r"}}}); }, &message))
      << "a device rule of type 'x' was accepted";
  EXPECT_TRUE(mentions(message, "x 1:11")) << "the error names the rule: " << message;
  EXPECT_FALSE(listed(state_->driver->list(), refused)) << "the refused group is listed";
}

TEST_P(ResourceConformance, UpdateChangesOnlyTheLimitsGiven) {
  ResourceLimits limits;
  limits.memory_bytes = 64 * kMiB;
  limits.pids_limit = 20;
  const std::string id = state_->create(limits);
  auto child = state_->sleeper_in(id);

  ResourceLimits pids;
  pids.pids_limit = 30;
  state_->driver->update(id, pids);
  ResourceStats stats = state_->driver->stats(id);
  EXPECT_EQ(stats.pids_limit, 30u) << "the pids limit was updated";
  EXPECT_EQ(stats.memory_limit_bytes, static_cast<std::uint64_t>(64 * kMiB)) << "memory was not given: unchanged";

  ResourceLimits memory;
  memory.memory_bytes = 256 * kMiB;  // above the memory+swap limit the first create set
  state_->driver->update(id, memory);
  stats = state_->driver->stats(id);
  EXPECT_EQ(stats.memory_limit_bytes, static_cast<std::uint64_t>(256 * kMiB)) << "memory raised past its old swap";
  EXPECT_EQ(stats.pids_limit, 30u);

  ResourceLimits bad;
  bad.cpu_shares = 1;
  std::string message;
  EXPECT_TRUE(throws_error([&] { state_->driver->update(id, bad); }, &message)) << "cpu_shares 1 was accepted";
  EXPECT_TRUE(mentions(message, "shares")) << message;
  EXPECT_TRUE(throws_error([&] { state_->driver->update(state_->new_id(), pids); })) << "update of an unknown group";
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ResourceConformance);

namespace detail {
int link_resource_conformance() { return 0; }
}  // namespace detail

}  // namespace mcore::conformance
