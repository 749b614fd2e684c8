// What a hostile container can reach of the processes mcore puts into it (the runc CVE-2019-5736
// class): a probe in the container races `mcore exec`s and a deployment's healthchecks, opening
// /proc/PID/exe of every process it sees to write mcore's binary (at once, and again after mcore
// exited), reading a host file through /proc/PID/root and looking for host descriptors in /proc/PID/fd.
// mcore runs from a copy of the build's binaries, so a successful attack would damage only the copies.
// And `mcore exec` without a terminal hands the container pipes, never the caller's own files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::map<std::string, long> parse_counters(const std::string& line) {
  std::map<std::string, long> counters;
  static const std::regex pair(R"((\w+)=(\d+))");
  for (std::sregex_iterator it(line.begin(), line.end(), pair), end; it != end; ++it) {
    counters[(*it)[1]] = std::stol((*it)[2]);
  }
  return counters;
}

class ExecExposureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
    // The binaries under attack: copies of mcore and of the helpers it looks for beside itself.
    for (const char* name : kPrograms) {
      fs::copy_file(fs::path(MCORE_BINARY).parent_path() / name, bin_.path() / name);
      originals_[name] = read_text(bin_.path() / name);
      ASSERT_FALSE(originals_[name].empty()) << name;
    }
    // A host file no container may read.
    secret_ = "host-secret-" + std::to_string(std::random_device{}());
    std::ofstream(work_.path() / "secret") << secret_ << "\n";
    fs::create_directories(work_.path() / "ctl");
  }

  CommandResult mcore(const std::vector<std::string>& args, const std::string& input = "") {
    std::vector<std::string> argv = sandbox_->mcore_argv(args);
    argv.front() = (bin_.path() / "mcore").string();
    return run_command(argv, input);
  }

  // The probe takes a process for one of mcore's when its executable has the size of one of them.
  std::vector<std::string> probe_command() const {
    std::string sizes;
    for (const auto& [name, content] : originals_) sizes += (sizes.empty() ? "" : ",") + std::to_string(content.size());
    return {"mcore-probe", "proc-race", "/ctl/stop", "/ctl/result", sizes, (work_.path() / "secret").string(), secret_};
  }

  void exec_many(const std::string& container, int count) {
    for (int i = 0; i < count; ++i) {
      auto result = mcore({"exec", container, "true"});
      ASSERT_EQ(result.exit_code, 0) << "exec " << i << ": " << result.err;
    }
  }

  // Stops the probe and returns its counters.
  std::map<std::string, long> probe_result() {
    std::ofstream(work_.path() / "ctl" / "stop") << "";
    const fs::path result = work_.path() / "ctl" / "result";
    for (int i = 0; i < 100 && read_text(result).empty(); ++i) std::this_thread::sleep_for(100ms);
    const std::string line = read_text(result);
    EXPECT_FALSE(line.empty()) << "the probe wrote no result";
    return parse_counters(line);
  }

  void expect_attack_failed(const std::map<std::string, long>& counters, const std::string& what) {
    const std::string shown = ::testing::PrintToString(counters);
    EXPECT_GT(counters.count("seen") ? counters.at("seen") : 0, 0) << what << ": the probe saw no process: " << shown;
    EXPECT_EQ(counters.count("exe_written") ? counters.at("exe_written") : -1, 0) << what << ": " << shown;
    EXPECT_EQ(counters.count("root_read") ? counters.at("root_read") : -1, 0) << what << ": " << shown;
    EXPECT_EQ(counters.count("extra_fds") ? counters.at("extra_fds") : -1, 0) << what << ": " << shown;
    for (const auto& [name, content] : originals_) {
      EXPECT_TRUE(read_text(bin_.path() / name) == content) << what << ": " << name << " was changed";
    }
  }

  std::string volume() const { return (work_.path() / "ctl").string() + ":/ctl"; }

  std::unique_ptr<McoreSandbox> sandbox_;
  TempDir bin_{"mcore-exposure-bin"};
  TempDir work_{"mcore-exposure-work"};
  static constexpr const char* kPrograms[] = {"mcore", "mcore-supervisor", "mcore-enter", "mcore-exit-handler"};
  std::map<std::string, std::string> originals_;
  std::string secret_;
};

TEST_F(ExecExposureTest, DefaultContainerRacingExecsAndHealthchecksReachesNothingOfTheHost) {
  // A deployment whose healthcheck fails 10 times before it passes: `up` execs it into the container
  // eleven times while the probe watches.
  const fs::path archive = work_.path() / "probe.tar";
  ASSERT_EQ(run_command({"/usr/bin/tar", "-C", shared_probe_rootfs().string(), "-cf", archive.string(), "."}).exit_code, 0);
  auto imported = mcore({"import", archive.string(), "probe:1"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  nlohmann::json deployment = {
      {"name", "race"},
      {"services",
       {{"box",
         {{"image", "probe:1"},
          {"command", probe_command()},
          {"volumes", {volume()}},
          {"healthcheck",
           {{"test", {"CMD-SHELL", "n=$(cat /tmp/n 2>/dev/null || echo 0); echo $((n+1)) > /tmp/n; [ $n -ge 10 ]"}},
            {"interval", "50ms"},
            {"retries", 20}}}}},
        {"after", {{"image", "probe:1"}, {"command", {"true"}}, {"depends_on", {{"box", {{"condition", "service_healthy"}}}}}}}}}};
  const fs::path file = work_.path() / "race.json";
  std::ofstream(file) << deployment.dump(2);
  auto up = mcore({"up", "-d", "-f", file.string()});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  ASSERT_NO_FATAL_FAILURE(exec_many("race-box-1", 200));
  expect_attack_failed(probe_result(), "default container");
  mcore({"down", "-f", file.string()});
}

TEST_F(ExecExposureTest, ContainerWithPtraceRacingExecsReachesNothingOfTheHost) {
  // CAP_SYS_PTRACE opens /proc/PID/exe and /proc/PID/root of non-dumpable processes too: what is left
  // to protect the host is what those links lead to.
  std::vector<std::string> args{"run", "-d", "--name", "box", "--cap-add", "SYS_PTRACE", "-v", volume(),
                                "--rootfs", shared_probe_rootfs().string()};
  for (auto& word : probe_command()) args.push_back(word);
  auto run = mcore(args);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_NO_FATAL_FAILURE(exec_many("box", 200));
  const auto counters = probe_result();
  expect_attack_failed(counters, "container with CAP_SYS_PTRACE");
  // The probe did get hold of the binary: what stopped it is the read-only view mcore ran from.
  EXPECT_GT(counters.count("exe_held") ? counters.at("exe_held") : 0, 0) << ::testing::PrintToString(counters);
}

TEST_F(ExecExposureTest, NonTerminalExecGetsPipesNotTheCallersFiles) {
  auto run = mcore({"run", "-d", "--name", "box", "--rootfs", shared_probe_rootfs().string(), "sleep", "1000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // The caller's stdout is a file only it may write: the container must not be able to reopen it.
  const fs::path caller_file = work_.path() / "caller-output";
  std::ofstream(caller_file) << "the caller's data\n";
  const std::string script =
      "for fd in 0 1 2; do readlink /proc/self/fd/$fd; done >&2; "
      ": > /proc/self/fd/1; echo out";
  auto argv = sandbox_->mcore_argv({"exec", "-i", "box", "sh", "-c", script});
  argv.front() = (bin_.path() / "mcore").string();
  std::string command;
  for (const auto& word : argv) command += "'" + word + "' ";
  command += ">>'" + caller_file.string() + "' 2>'" + (work_.path() / "err").string() + "' </dev/null";
  const int status = std::system(command.c_str());
  const std::string err = read_text(work_.path() / "err");
  EXPECT_EQ(status, 0) << err;
  EXPECT_EQ(read_text(caller_file), "the caller's data\nout\n") << err;
  EXPECT_NE(err.find("pipe:["), std::string::npos) << err;
  EXPECT_EQ(err.find(caller_file.string()), std::string::npos) << err;
}

}  // namespace
}  // namespace mcore::test
