// Who records a container's exit. A foreground `mcore run` without a restart policy takes the exit over
// from the supervisor (the liveness lock comes with it) and records it in its own process; every other
// container's supervisor execs mcore-exit-handler. The test runs mcore from a directory of its own
// whose mcore-exit-handler first leaves a mark, then execs the real one: the marks show which path ran,
// and the containers' ends show that both still record the exit, remove --rm containers and restart.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ExitHandoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
    // mcore finds its helpers beside its own executable (/proc/self/exe): a hard link keeps that this
    // directory, a copy where links cannot cross file systems.
    const fs::path built = fs::path(MCORE_BINARY).parent_path();
    for (const char* name : {"mcore", "mcore-supervisor", "mcore-enter"}) {
      std::error_code error;
      fs::create_hard_link(built / name, bin_.path() / name, error);
      if (error) fs::copy_file(built / name, bin_.path() / name);
    }
    std::ofstream(bin_.path() / "mcore-exit-handler")
        << "#!/bin/sh\necho \"$@\" >> " << marks_.string() << "\nexec " << (built / "mcore-exit-handler").string()
        << " \"$@\"\n";
    fs::permissions(bin_.path() / "mcore-exit-handler", fs::perms::owner_all);
  }

  CommandResult mcore(std::vector<std::string> args) const {
    auto argv = sandbox_->mcore_argv(args);
    argv.front() = (bin_.path() / "mcore").string();
    return run_command(argv);
  }

  // The ids the exit handler was exec'd for, in order (its last word).
  std::vector<std::string> handled() const {
    std::vector<std::string> ids;
    std::ifstream in(marks_);
    for (std::string line; std::getline(in, line);) ids.push_back(line.substr(line.rfind(' ') + 1));
    return ids;
  }

  nlohmann::json inspect(const std::string& name) const {
    auto result = mcore({"inspect", "--type", "container", name});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    auto json = nlohmann::json::parse(result.out, nullptr, false);
    return json.is_array() && !json.empty() ? json[0] : nlohmann::json::object();
  }

  std::unique_ptr<McoreSandbox> sandbox_;
  TempDir bin_{"mcore-bin"};
  fs::path marks_ = bin_.path() / "exit-handler-runs";
};

TEST_F(ExitHandoverTest, ForegroundRunRecordsItsOwnExitAndRemovesAnRmContainer) {
  auto result = mcore({"run", "--rm", "--name", "fg", "--rootfs", shared_busybox_rootfs().string(), "sh", "-c", "exit 7"});
  EXPECT_EQ(result.exit_code, 7) << result.err;
  EXPECT_EQ(handled(), std::vector<std::string>{});
  // Gone by the time the CLI returned: nothing was left for an exit handler to finish.
  EXPECT_NE(mcore({"inspect", "--type", "container", "fg"}).exit_code, 0);
  EXPECT_TRUE(fs::is_empty(sandbox_->state_root() / "containers"));
}

TEST_F(ExitHandoverTest, ForegroundRunWithoutRmLeavesTheRecordedExit) {
  auto result = mcore({"run", "--name", "kept", "--rootfs", shared_busybox_rootfs().string(), "sh", "-c", "exit 3"});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_EQ(handled(), std::vector<std::string>{});
  const auto state = inspect("kept")["State"];
  EXPECT_EQ(state.value("Status", ""), "exited") << state.dump();
  EXPECT_EQ(state.value("ExitCode", -1), 3) << state.dump();
  EXPECT_NE(state.value("FinishedAt", ""), "") << state.dump();
}

// The launcher of such a run shares the CLI's memory and a copy of its descriptors until it execs
// mcore-supervisor: the supervisor must hold nothing of the CLI's, and the exit must still be recorded
// when the CLI is gone.
TEST_F(ExitHandoverTest, AForegroundRunsSupervisorKeepsOnlyItsOwnDescriptors) {
  CommandResult foreground;
  std::thread cli([&] {
    foreground = mcore({"run", "--name", "inproc", "--rootfs", shared_busybox_rootfs().string(), "sleep", "1000"});
  });
  pid_t init = 0;
  for (int i = 0; i < 200 && init <= 0; ++i) {
    std::this_thread::sleep_for(25ms);
    auto state = mcore({"inspect", "--type", "container", "inproc"});
    auto json = nlohmann::json::parse(state.out, nullptr, false);
    if (json.is_array() && !json.empty() && json[0]["State"].value("Status", "") == "running") {
      init = json[0]["State"].value("Pid", 0);
    }
  }
  ASSERT_GT(init, 0) << "the container never ran";
  const pid_t supervisor = parent_pid(init);
  ASSERT_GT(supervisor, 1);
  EXPECT_EQ(read_text("/proc/" + std::to_string(supervisor) + "/comm"), "mcore-superviso\n");
  // Its own: stdio on /dev/null, the init's pidfd, the output pipes, its listening socket and the CLI's
  // connection, the liveness lock and the log. Not the launch report's socket, nor anything else.
  // `inspect` above connects to the supervisor too (for its count of lost log entries): the supervisor
  // closes that connection when it sees the hang-up, so the count is taken once it has settled. A
  // descriptor the supervisor leaked would never go.
  const fs::path descriptors = "/proc/" + std::to_string(supervisor) + "/fd";
  int sockets = 0, pipes = 0;
  std::vector<std::string> foreign;
  const auto settled_by = std::chrono::steady_clock::now() + 5s;
  do {
    sockets = pipes = 0;
    foreign.clear();
    for (const auto& entry : fs::directory_iterator(descriptors)) {
      const std::string target = fs::read_symlink(entry.path()).string();
      sockets += target.rfind("socket:", 0) == 0;
      pipes += target.rfind("pipe:", 0) == 0;
      const bool own = target == "/dev/null" || target == "anon_inode:[pidfd]" ||
                       target.rfind("pipe:", 0) == 0 || target.rfind("socket:", 0) == 0 ||
                       target.ends_with("/supervisor.lock") || target.ends_with("/container.log");
      if (!own) foreign.push_back(target + " (fd " + entry.path().filename().string() + ")");
    }
    if (sockets != 2) std::this_thread::sleep_for(20ms);
  } while (sockets != 2 && std::chrono::steady_clock::now() < settled_by);
  EXPECT_EQ(foreign, std::vector<std::string>{}) << "the supervisor holds descriptors not its own";
  EXPECT_EQ(sockets, 2);
  EXPECT_EQ(pipes, 2);
  // The CLI dies: nobody takes the exit, so the supervisor hands it to the exit handler.
  for (pid_t pid : sandbox_->processes_named("mcore")) {
    if (pid != supervisor) ::kill(pid, SIGKILL);
  }
  cli.join();
  EXPECT_EQ(mcore({"stop", "-t", "1", "inproc"}).exit_code, 0);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (handled().empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  const auto record = inspect("inproc");
  EXPECT_EQ(handled(), std::vector<std::string>{record.value("Id", "")});
  EXPECT_EQ(record["State"].value("Status", ""), "exited") << record.dump();
  EXPECT_EQ(mcore({"rm", "inproc"}).exit_code, 0);
}

TEST_F(ExitHandoverTest, ARestartPolicyKeepsTheExitWithTheSupervisor) {
  // The foreground CLI must not become the next launcher: the supervisor's exit handler restarts it.
  auto result = mcore({"run", "--name", "again", "--restart", "on-failure:1", "--rootfs",
                       shared_busybox_rootfs().string(), "sh", "-c", "exit 4"});
  EXPECT_EQ(result.exit_code, 4) << result.err;
  // The restarted run's exit comes too; the second supervisor's handler is the real one (found beside
  // the first handler), so only the first exit leaves a mark.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (inspect("again").value("RestartCount", -1) < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  auto waited = mcore({"wait", "again"});
  EXPECT_EQ(waited.out, "4\n") << waited.err;
  const auto record = inspect("again");
  EXPECT_EQ(record.value("RestartCount", -1), 1) << record.dump();
  EXPECT_EQ(handled(), std::vector<std::string>{record.value("Id", "")});
}

TEST_F(ExitHandoverTest, DetachedContainersExitThroughTheExitHandler) {
  auto run = mcore({"run", "-d", "--name", "bg", "--rootfs", shared_busybox_rootfs().string(), "sh", "-c", "exit 9"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto waited = mcore({"wait", "bg"});
  EXPECT_EQ(waited.out, "9\n") << waited.err;
  std::string id = run.out.substr(0, run.out.find('\n'));
  // `wait` may learn the exit from the supervisor before it execs the exit handler.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (handled().empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(handled(), std::vector<std::string>{id});
}

}  // namespace
}  // namespace mcore::test
