// The SDK's holders (mcore/holder_process.hpp): a process kept only to keep a namespace alive, known
// by its pid file and its name, showing nothing of the command it was forked from.
#include "mcore/holder_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mcore/fd_io.hpp"
#include "test_support.hpp"

namespace mcore {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kName = "mcore-testhold";

class HolderProcessTest : public ::testing::Test {
 protected:
  // The holders started here are this process's children: killed and reaped, whatever the test did.
  void TearDown() override {
    for (pid_t pid : started_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }

  std::optional<pid_t> start() {
    auto pid = start_holder(pid_file_, kName, [] { return true; });
    if (pid) started_.push_back(*pid);
    return pid;
  }

  static bool has_children() { return ::waitpid(-1, nullptr, WNOHANG) != -1 || errno != ECHILD; }

  std::vector<pid_t> started_;

  test::TempDir dir_{"mcore-holder"};
  fs::path pid_file_ = dir_.path() / "holder.pid";
};

TEST_F(HolderProcessTest, AStartedHolderIsFoundByItsFileAndNameAndShowsOnlyItsName) {
  const auto pid = start();
  ASSERT_TRUE(pid.has_value());
  EXPECT_EQ(read_file(pid_file_), std::to_string(*pid) + "\n");
  const auto holder = find_holder(pid_file_, kName);
  ASSERT_TRUE(holder.has_value());
  EXPECT_EQ(holder->pid, *pid);
  EXPECT_EQ(read_file("/proc/" + std::to_string(*pid) + "/comm"), std::string(kName) + "\n");
  // The test binary's own path and arguments are gone from the command line, and the environment
  // (which could carry a secret) is zeroed.
  const std::string command_line = read_file("/proc/" + std::to_string(*pid) + "/cmdline");
  EXPECT_EQ(command_line.substr(0, command_line.find('\0')), kName);
  EXPECT_EQ(command_line.find("holder_process_test"), std::string::npos);
  const std::string environment = read_file("/proc/" + std::to_string(*pid) + "/environ");
  EXPECT_EQ(environment.find_first_not_of('\0'), std::string::npos);
  // None of this process's descriptors: stdio on /dev/null, and for a moment the socket of the
  // start, which the holder closes once it read that it is recorded.
  const fs::path descriptors = "/proc/" + std::to_string(*pid) + "/fd";
  std::vector<std::string> held;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  do {
    held.clear();
    for (const auto& entry : fs::directory_iterator(descriptors)) {
      const std::string target = fs::read_symlink(entry.path()).string();
      EXPECT_TRUE(target == "/dev/null" || target.starts_with("socket:"))
          << "fd " << entry.path().filename() << ": " << target;
      if (target != "/dev/null") held.push_back(target);
    }
    if (!held.empty()) std::this_thread::sleep_for(5ms);
  } while (!held.empty() && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(held, std::vector<std::string>{});
  EXPECT_TRUE(open_holder_namespace(*holder, "user"));
}

TEST_F(HolderProcessTest, AnotherNameOrAnotherProgramAtTheRecordedPidIsNoHolder) {
  const auto pid = start();
  ASSERT_TRUE(pid.has_value());
  EXPECT_FALSE(find_holder(pid_file_, "mcore-other"));
  EXPECT_TRUE(
      find_recorded_process(pid_file_, [](const std::string& name) { return name.starts_with("mcore-"); }));
  // A pid file naming this test process, which has another name.
  const fs::path foreign = dir_.path() / "foreign.pid";
  std::ofstream(foreign) << ::getpid() << "\n";
  EXPECT_FALSE(find_holder(foreign, kName));
  std::ofstream(foreign, std::ios::trunc) << "not a pid\n";
  EXPECT_FALSE(find_holder(foreign, kName));
  EXPECT_FALSE(find_holder(dir_.path() / "missing.pid", kName));
}

TEST_F(HolderProcessTest, AKilledHolderIsNotFoundAndItsZombieOpensNoNamespace) {
  const auto pid = start();
  ASSERT_TRUE(pid.has_value());
  auto holder = find_holder(pid_file_, kName);
  ASSERT_TRUE(holder.has_value());
  ASSERT_EQ(::kill(*pid, SIGKILL), 0);
  // Not reaped yet: a zombie, whose pidfd still takes signal 0.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (open_holder_namespace(*holder, "user") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(open_holder_namespace(*holder, "user"));
  ASSERT_EQ(::waitpid(*pid, nullptr, 0), *pid);
  started_.clear();
  EXPECT_FALSE(find_holder(pid_file_, kName));
}

TEST_F(HolderProcessTest, StopKillsTheHolderAndRemovesItsFileAndIsIdempotent) {
  const auto pid = start();
  ASSERT_TRUE(pid.has_value());
  stop_holder(pid_file_, kName);
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  started_.clear();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_FALSE(fs::exists(pid_file_));
  stop_holder(pid_file_, kName);
}

TEST_F(HolderProcessTest, AHolderThatCannotEnterLeavesNothing) {
  EXPECT_FALSE(start_holder(pid_file_, kName, [] { return false; }));
  EXPECT_FALSE(fs::exists(pid_file_));
  EXPECT_FALSE(has_children()) << "the failed holder was not reaped";
}

TEST_F(HolderProcessTest, AHolderWhosePidFileCannotBeWrittenLeavesNothing) {
  const fs::path unwritable = dir_.path() / "no-such-directory" / "holder.pid";
  EXPECT_FALSE(start_holder(unwritable, kName, [] { return true; }));
  EXPECT_FALSE(has_children()) << "the holder was not killed and reaped";
}

// The starter dies after the holder entered but before the pid file names it: the holder must not
// stay, running and recorded nowhere.
TEST_F(HolderProcessTest, AHolderWhoseStarterDiesBeforeRecordingItExits) {
  int ends[2];
  ASSERT_EQ(::pipe2(ends, O_CLOEXEC), 0);
  const pid_t starter = ::fork();
  ASSERT_GE(starter, 0);
  if (starter == 0) {
    // The pid file cannot be written before `enter` returned, so the starter dies in between: the
    // holder reports its pid through the pipe from `enter`, then the starter is killed.
    const int report = ends[1];
    start_holder(pid_file_, kName, [report] {
      const pid_t self = ::getpid();
      if (::write(report, &self, sizeof self) != sizeof self) return false;
      ::kill(::getppid(), SIGKILL);
      return true;
    });
    ::_exit(0);
  }
  ::close(ends[1]);
  pid_t holder = 0;
  ASSERT_EQ(::read(ends[0], &holder, sizeof holder), static_cast<ssize_t>(sizeof holder));
  ::close(ends[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(starter, &status, 0), starter);
  EXPECT_TRUE(WIFSIGNALED(status));
  // Reparented to init (or a subreaper): it cannot be waited for here, so watch it go.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, holder, 0)));
  if (pidfd) {
    pollfd exited{pidfd.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&exited, 1, 5000), 1) << "the unrecorded holder " << holder << " still runs";
    if (exited.revents == 0) ::kill(holder, SIGKILL);
  }
  EXPECT_FALSE(fs::exists(pid_file_));
}

}  // namespace
}  // namespace mcore
