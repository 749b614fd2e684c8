// The container lifecycle through the mcore binary: detached containers under their supervisor, stop,
// kill, start, restart, pause, rm, wait, restart policies, crash safety and parallel starts.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  CommandResult mcore(const std::vector<std::string>& args) { return sandbox_->mcore(args); }

  // `mcore run -d` of a busybox shell script; returns the new container's id.
  std::string detached(const std::string& script, std::vector<std::string> flags = {}) {
    std::vector<std::string> args{"run", "-d"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--rootfs", shared_busybox_rootfs().string(), "sh", "-c", script});
    auto result = mcore(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return trimmed(result.out);
  }

  nlohmann::json inspect(const std::string& container) {
    auto result = mcore({"inspect", "--type", "container", container});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    auto json = nlohmann::json::parse(result.out, nullptr, false);
    return json.is_array() && !json.empty() ? json[0] : nlohmann::json::object();
  }

  std::string status(const std::string& container) { return inspect(container)["State"].value("Status", ""); }

  // Polls until `condition` holds or `limit` passes.
  static bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return condition();
  }

  // Starts mcore with `args` without waiting for it; returns its pid.
  pid_t spawn_mcore(const std::vector<std::string>& args) const {
    auto argv = sandbox_->mcore_argv(args);
    std::vector<char*> pointers;
    for (auto& word : argv) pointers.push_back(word.data());
    pointers.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execv(pointers[0], pointers.data());
      ::_exit(127);
    }
    return pid;
  }

  fs::path runtime_dir(const std::string& id) const { return sandbox_->state_root() / "containers" / id; }

  // The supervisor's pid: the parent of the container's init.
  static pid_t parent_of(pid_t pid) { return parent_pid(pid); }

  // Gone, or a zombie waiting for whoever adopted it.
  static bool process_gone(pid_t pid) {
    std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    return stat.empty() || stat.substr(stat.rfind(')') + 2, 1) == "Z";
  }

  // Nothing of any container left: records, runtime directories, cgroups.
  void expect_clean() {
    std::error_code error;
    std::vector<std::string> left;
    for (const auto& entry : fs::directory_iterator(sandbox_->data_root() / "containers", error)) {
      const auto name = entry.path().filename();
      if (name == ".creating") continue;
      if (name != "names" || !fs::is_empty(entry.path())) {
        left.push_back(entry.path());
        for (const auto& inner : fs::directory_iterator(entry.path(), error)) left.push_back(inner.path());
      }
    }
    for (const auto& entry : fs::directory_iterator(sandbox_->state_root() / "containers", error)) {
      left.push_back(entry.path());
    }
    for (const auto& dir : cgroup_parent_dirs(sandbox_->cgroup_parent())) {
      for (const auto& entry : fs::directory_iterator(dir, error)) {
        if (entry.is_directory()) left.push_back(entry.path());
      }
    }
    std::istringstream mounts(read_text("/proc/self/mountinfo"));
    const std::string sandbox = sandbox_->data_root().parent_path().string();
    for (std::string line; std::getline(mounts, line);) {
      if (line.find(sandbox) != std::string::npos) left.push_back(line);
    }
    EXPECT_EQ(left, std::vector<std::string>{});
  }

  // Every `mcore` process (not a supervisor) running with this sandbox's config: the CLI and its launcher.
  std::vector<pid_t> mcore_processes() const { return sandbox_->processes_named("mcore"); }
  std::vector<pid_t> supervisor_processes() const { return sandbox_->supervisor_processes(); }

  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(LifecycleTest, DetachedRunPrintsTheIdAndKeepsRunningAfterTheCliExits) {
  // As PID 1 the shell has no default action for SIGTERM: the trap is what makes it stop.
  const std::string id = detached("trap 'exit 7' TERM; echo started; while true; do sleep 0.1; done", {"--name", "web"});
  ASSERT_EQ(id.size(), 64u) << id;
  EXPECT_EQ(status("web"), "running");
  auto state = inspect(id)["State"];
  EXPECT_TRUE(state.value("Running", false));
  EXPECT_GT(state.value("Pid", 0), 0);

  auto stopped = mcore({"stop", "-t", "5", "web"});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_EQ(trimmed(stopped.out), "web");
  state = inspect(id)["State"];
  EXPECT_EQ(state.value("Status", ""), "exited");
  EXPECT_EQ(state.value("ExitCode", -1), 7);
  EXPECT_FALSE(fs::exists(runtime_dir(id) / "supervisor.sock"));

  // Stopping again is not an error (Docker's behaviour) and changes nothing.
  auto again = mcore({"stop", "web"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(inspect(id)["State"].value("ExitCode", -1), 7);
  EXPECT_EQ(mcore({"rm", "web"}).exit_code, 0);
  expect_clean();
}

TEST_F(LifecycleTest, StopEndsAProcessIgnoringSigtermWithSigkillAfterTheGracePeriod) {
  const std::string id = detached("trap '' TERM; while true; do sleep 0.1; done");
  const auto begin = Clock::now();
  auto stopped = mcore({"stop", "-t", "1", id.substr(0, 12)});
  const auto took = Clock::now() - begin;
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_GE(took, 1s);
  EXPECT_LT(took, 8s);
  EXPECT_EQ(inspect(id)["State"].value("ExitCode", -1), 128 + SIGKILL);
}

TEST_F(LifecycleTest, KillSendsTheSignalAndRefusesAStoppedContainer) {
  const std::string id = detached("trap 'exit 42' USR1; while true; do sleep 0.1; done", {"--name", "killme"});
  std::this_thread::sleep_for(300ms);  // the trap is set
  EXPECT_EQ(mcore({"kill", "-s", "USR1", "killme"}).exit_code, 0);
  EXPECT_EQ(trimmed(mcore({"wait", "killme"}).out), "42");
  auto refused = mcore({"kill", "killme"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("container killme is not running"), std::string::npos) << refused.err;
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
}

TEST_F(LifecycleTest, StartRunsAStoppedContainerAgainAndStartAttachPassesOutputAndExitCode) {
  const fs::path out = sandbox_->data_root().parent_path() / "volume";
  fs::create_directories(out);
  const std::string id =
      detached("echo run >> /out/runs; echo hello; exit 3", {"--name", "again", "-v", out.string() + ":/out"});
  EXPECT_EQ(trimmed(mcore({"wait", "again"}).out), "3");
  auto started = mcore({"start", "-a", "again"});
  EXPECT_EQ(started.exit_code, 3) << started.err;
  EXPECT_EQ(started.out, "hello\n");
  EXPECT_EQ(read_text(out / "runs"), "run\nrun\n");
  auto restart = mcore({"restart", "again"});
  EXPECT_EQ(restart.exit_code, 0) << restart.err;
  EXPECT_EQ(trimmed(mcore({"wait", "again"}).out), "3");
  EXPECT_EQ(read_text(out / "runs"), "run\nrun\nrun\n");
}

TEST_F(LifecycleTest, PauseFreezesTheContainerAndUnpauseResumesIt) {
  const fs::path out = sandbox_->data_root().parent_path() / "counter";
  fs::create_directories(out);
  detached("i=0; while true; do i=$((i+1)); echo $i > /out/n; sleep 0.05; done",
           {"--name", "counter", "-v", out.string() + ":/out"});
  auto count = [&] { return std::atoi(read_text(out / "n").c_str()); };
  ASSERT_TRUE(eventually([&] { return count() > 2; }));
  ASSERT_EQ(mcore({"pause", "counter"}).exit_code, 0);
  EXPECT_EQ(status("counter"), "paused");
  std::this_thread::sleep_for(200ms);
  const int frozen = count();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(count(), frozen) << "the counter advanced while paused";
  auto stop_paused = mcore({"stop", "counter"});
  EXPECT_EQ(stop_paused.exit_code, 1);
  EXPECT_NE(stop_paused.err.find("paused"), std::string::npos) << stop_paused.err;
  ASSERT_EQ(mcore({"unpause", "counter"}).exit_code, 0);
  EXPECT_TRUE(eventually([&] { return count() > frozen + 2; })) << "the counter did not resume";
  EXPECT_EQ(status("counter"), "running");
  EXPECT_EQ(mcore({"unpause", "counter"}).exit_code, 1);
}

TEST_F(LifecycleTest, RmRefusesARunningContainerUnlessForcedAndRmAllEmptiesTheStore) {
  detached("exec sleep 1000", {"--name", "busy"});
  detached("exit 0", {"--name", "done"});
  auto refused = mcore({"rm", "busy"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("cannot remove running container busy"), std::string::npos) << refused.err;
  EXPECT_EQ(status("busy"), "running");
  auto all = mcore({"rm", "--all", "-f"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(mcore({"inspect", "--type", "container", "busy"}).exit_code, 1);
  expect_clean();
}

TEST_F(LifecycleTest, UnknownAndAmbiguousContainersAreRefusedWithExitCodeOne) {
  auto unknown = mcore({"stop", "nosuch"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no such container: nosuch"), std::string::npos) << unknown.err;
  // Containers until two ids share a first character.
  std::map<char, int> first;
  while (true) {
    const std::string id = detached("exit 0");
    if (++first[id[0]] == 2) {
      auto ambiguous = mcore({"rm", std::string(1, id[0])});
      EXPECT_EQ(ambiguous.exit_code, 1);
      EXPECT_NE(ambiguous.err.find("ambiguous"), std::string::npos) << ambiguous.err;
      break;
    }
  }
}

TEST_F(LifecycleTest, OnFailureRestartPolicyRestartsAFailingCommandNTimes) {
  const fs::path out = sandbox_->data_root().parent_path() / "restarts";
  fs::create_directories(out);
  const std::string id = detached("echo run >> /out/runs; exit 3",
                                  {"--restart", "on-failure:2", "-v", out.string() + ":/out"});
  ASSERT_TRUE(eventually([&] { return status(id) == "exited" && read_text(out / "runs") == "run\nrun\nrun\n"; }, 20s))
      << read_text(out / "runs") << inspect(id).dump();
  auto record = inspect(id);
  EXPECT_EQ(record.value("RestartCount", -1), 2);
  EXPECT_EQ(record["State"].value("ExitCode", -1), 3);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(read_text(out / "runs"), "run\nrun\nrun\n") << "restarted beyond the limit";
}

TEST_F(LifecycleTest, AlwaysRestartsUntilStopped) {
  const fs::path out = sandbox_->data_root().parent_path() / "always";
  fs::create_directories(out);
  const std::string id = detached("echo run >> /out/runs; sleep 0.2", {"--restart", "always", "-v", out.string() + ":/out"});
  ASSERT_TRUE(eventually([&] { return read_text(out / "runs").size() >= 12; }, 20s)) << read_text(out / "runs");
  EXPECT_EQ(mcore({"stop", id}).exit_code, 0);
  EXPECT_EQ(status(id), "exited");
  const std::string runs = read_text(out / "runs");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(read_text(out / "runs"), runs) << "restarted after mcore stop";
}

TEST_F(LifecycleTest, SupervisorKilledTakesTheContainerWithItAndPruneCleansUp) {
  const std::string id = detached("exec sleep 1000", {"--name", "victim"});
  const pid_t init = inspect(id)["State"].value("Pid", 0);
  ASSERT_GT(init, 0);
  const pid_t supervisor = parent_of(init);
  ASSERT_GT(supervisor, 1);
  EXPECT_NE(read_text("/proc/" + std::to_string(supervisor) + "/cmdline").find("mcore-supervisor"), std::string::npos);
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return process_gone(init); })) << "the container outlived its supervisor";

  auto ps = mcore({"ps", "-a"});
  EXPECT_NE(ps.out.find("Exited (255)"), std::string::npos) << ps.out;
  EXPECT_EQ(status("victim"), "exited");
  auto pruned = mcore({"prune", "-f"});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_NE(pruned.out.find(id), std::string::npos) << pruned.out;
  expect_clean();
}

TEST_F(LifecycleTest, KilledForegroundCliLeavesTheContainerRunningUnderItsSupervisor) {
  const pid_t cli = spawn_mcore({"run", "--name", "fg", "--rootfs", shared_busybox_rootfs().string(), "sleep", "1000"});
  ASSERT_TRUE(eventually([&] { return mcore({"inspect", "--type", "container", "fg"}).exit_code == 0 && status("fg") == "running"; }));
  ::kill(cli, SIGKILL);
  ::waitpid(cli, nullptr, 0);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(status("fg"), "running");
  EXPECT_NE(mcore({"ps"}).out.find("fg"), std::string::npos);
  EXPECT_EQ(mcore({"rm", "-f", "fg"}).exit_code, 0);
  EXPECT_EQ(mcore({"prune"}).exit_code, 0);
  expect_clean();
}

TEST_F(LifecycleTest, RunKilledAtAnyPointLeavesStateThatPsReadsAndPruneRepairs) {
  // SIGKILL to the CLI and the launcher it forked, at points from before the fork to after the report.
  const std::vector<int> delays_ms{0, 2, 5, 10, 20, 35, 60, 100, 200};
  for (std::size_t i = 0; i < delays_ms.size(); ++i) {
    const pid_t cli = spawn_mcore({"run", "-d", "--name", "cut" + std::to_string(i), "--rootfs",
                                   shared_busybox_rootfs().string(), "sleep", "1000"});
    std::this_thread::sleep_for(std::chrono::milliseconds(delays_ms[i]));
    for (pid_t pid : mcore_processes()) ::kill(pid, SIGKILL);
    ::waitpid(cli, nullptr, 0);
    ASSERT_TRUE(eventually([&] { return mcore_processes().empty(); })) << "an mcore process survived SIGKILL";
  }

  auto ps = mcore({"ps", "-a", "--format", "json"});
  ASSERT_EQ(ps.exit_code, 0) << ps.err;
  for (const auto& row : nlohmann::json::parse(ps.out)) {
    const std::string name = row.value("Names", "");
    const std::string shown = row.value("Status", "");
    auto state = inspect(name)["State"];
    if (state.value("Running", false)) {
      // What ps calls running really is: its init is alive.
      EXPECT_EQ(shown.rfind("Up ", 0), 0u) << name << ": " << shown;
      EXPECT_EQ(::kill(state.value("Pid", 0), 0), 0) << name;
    } else {
      EXPECT_EQ(shown.find("Up "), std::string::npos) << name << ": " << shown;
    }
  }
  EXPECT_EQ(mcore({"prune", "-f"}).exit_code, 0);
  EXPECT_EQ(mcore({"rm", "-f", "--all"}).exit_code, 0);
  auto second = mcore({"prune", "-f"});
  EXPECT_EQ(second.exit_code, 0) << second.err;
  expect_clean();
}

TEST_F(LifecycleTest, SupervisorKilledAtAnyPointOfARestartLoopLeavesStateThatPruneRepairs) {
  // Each container exits every 50 ms and is restarted: the SIGKILL lands while the supervisor relays,
  // records an exit, waits out the restart delay or starts the next init.
  for (int round = 0; round < 8; ++round) {
    detached("sleep 0.05", {"--restart", "always", "--name", "loop" + std::to_string(round)});
    std::this_thread::sleep_for(std::chrono::milliseconds(10 + 29 * round));
    for (pid_t pid : supervisor_processes()) ::kill(pid, SIGKILL);
  }
  // A supervisor killed while it launched the next run leaves that launcher (a vfork child until its
  // exec) to become the container's next supervisor: it is killed in turn, until none is left. One
  // that SIGKILL does not end would stay.
  ASSERT_TRUE(eventually([&] {
    for (pid_t pid : supervisor_processes()) ::kill(pid, SIGKILL);
    return supervisor_processes().empty();
  })) << "a supervisor survived SIGKILL";
  auto ps = mcore({"ps", "-a", "--format", "json"});
  ASSERT_EQ(ps.exit_code, 0) << ps.err;
  const auto rows = nlohmann::json::parse(ps.out);
  EXPECT_EQ(rows.size(), 8u) << ps.out;
  for (const auto& row : rows) {
    EXPECT_EQ(row.value("Status", "").find("Up "), std::string::npos) << row.dump();
  }
  // Lost while running, with a restart policy: no "dead" container for prune (issue 14, item 2), which
  // keeps them and repairs the rest; rm -f then leaves nothing.
  auto pruned = mcore({"prune", "-f"});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_EQ(nlohmann::json::parse(mcore({"ps", "-a", "--format", "json"}).out).size(), 8u) << pruned.out << pruned.err;
  auto removed = mcore({"rm", "--all", "-f"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  expect_clean();
}

TEST_F(LifecycleTest, ForegroundRunRmLeavesNothingAndPassesTheExitCode) {
  auto result = mcore({"run", "--rm", "--rootfs", shared_busybox_rootfs().string(), "sh", "-c", "echo out; echo err >&2; exit 5"});
  EXPECT_EQ(result.exit_code, 5);
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");
  expect_clean();
}

TEST_F(LifecycleTest, TwentyParallelDetachedRunsGetDistinctIdsNamesAndRecords) {
  std::vector<std::future<CommandResult>> runs;
  for (int i = 0; i < 20; ++i) {
    runs.push_back(std::async(std::launch::async, [&] {
      return mcore({"run", "-d", "--rootfs", shared_busybox_rootfs().string(), "sleep", "1000"});
    }));
  }
  std::set<std::string> ids;
  for (auto& run : runs) {
    auto result = run.get();
    EXPECT_EQ(result.exit_code, 0) << result.err;
    ids.insert(trimmed(result.out));
  }
  EXPECT_EQ(ids.size(), 20u);
  std::set<std::string> names;
  for (const auto& id : ids) {
    auto record = inspect(id);
    EXPECT_EQ(record["State"].value("Status", ""), "running") << id;
    names.insert(record.value("Name", ""));
  }
  EXPECT_EQ(names.size(), 20u);
  auto listed = mcore({"ps", "-q", "--no-trunc"});
  std::istringstream lines(listed.out);
  std::set<std::string> shown;
  for (std::string line; std::getline(lines, line);) shown.insert(line);
  EXPECT_EQ(shown, ids);
  EXPECT_EQ(mcore({"rm", "-f", "--all"}).exit_code, 0);
  expect_clean();
}

TEST_F(LifecycleTest, ConcurrentRemovalsOfOneContainerAreSerialised) {
  const std::string id = detached("exec sleep 1000", {"--name", "contended"});
  std::vector<std::future<CommandResult>> removals;
  for (int i = 0; i < 5; ++i) {
    removals.push_back(std::async(std::launch::async, [&] { return mcore({"rm", "-f", id}); }));
  }
  int removed = 0;
  for (auto& removal : removals) {
    auto result = removal.get();
    if (result.exit_code == 0) {
      ++removed;
    } else {
      EXPECT_EQ(result.exit_code, 1);
      EXPECT_NE(result.err.find("no such container"), std::string::npos) << result.err;
    }
  }
  EXPECT_GE(removed, 1);
  expect_clean();
}

}  // namespace
}  // namespace mcore::test
