#pragma once
// A bundle per test for mcore-oci (runc's spec, a busybox root of its own, cgroupsPath below the
// sandbox's parent group) and the helpers that run mcore-oci on it. The test process is a subreaper,
// as containerd's shim and conmon are: created inits are reparented to it.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "test_support.hpp"

namespace mcore::test {

namespace fs = std::filesystem;
using nlohmann::json;

class OciBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    // Created inits are reparented to us, as to containerd's shim or conmon.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    sandbox_ = std::make_unique<McoreSandbox>();
    bundle_ = work_.path() / "bundle";
    fs::create_directories(bundle_);
    ASSERT_EQ(oci({"spec", "--bundle", bundle_.string()}).exit_code, 0);
    config_ = json::parse(read_text(bundle_ / "config.json"));
    // A rootfs of its own, reachable by the unprivileged users some tests run as.
    fs::permissions(work_.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    make_busybox_rootfs(work_.path() / "rootfs");
    config_["root"]["path"] = (work_.path() / "rootfs").string();
    config_["process"]["env"] = {"PATH=/bin"};
    config_["linux"]["cgroupsPath"] = cgroups_path("c1");
  }

  void TearDown() override {
    for (const auto& id : {"c1", "c2"}) oci({"delete", "--force", id});
    ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }

  // Below the sandbox's parent group, which is below our own.
  std::string cgroups_path(const std::string& id) const { return sandbox_->cgroup_parent() + "/" + id; }
  fs::path root() const { return work_.path() / "state"; }

  void write_config() const {
    std::ofstream(bundle_ / "config.json") << config_.dump(2);
  }

  std::vector<std::string> oci_argv(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{MCORE_OCI_BINARY, "--root", root().string(), "--config",
                                  sandbox_->config_file().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  CommandResult oci(const std::vector<std::string>& args) const { return run_command(oci_argv(args)); }

  // The container's stdio goes to files: a created init keeps mcore-oci's stdio, and a pipe held
  // open by it would never reach end of file for run_command.
  CommandResult oci_to_files(const std::vector<std::string>& args) const {
    std::string command;
    // "3>FILE" is a redirection for the shell, not an argument.
    for (const auto& arg : oci_argv(args)) command += arg.starts_with("3>") ? arg + " " : "'" + arg + "' ";
    command += "</dev/null >'" + (work_.path() / "out").string() + "' 2>'" + (work_.path() / "err").string() + "'";
    CommandResult result = run_command({"/bin/sh", "-c", command});
    result.out = read_text(work_.path() / "out");
    result.err = read_text(work_.path() / "err");
    return result;
  }

  json state(const std::string& id) const {
    const auto result = oci({"state", id});
    return result.exit_code == 0 ? json::parse(result.out) : json();
  }

  // Nothing of container `id` is left: state directory, group.
  void expect_nothing_left(const std::string& id) const {
    EXPECT_FALSE(fs::exists(root() / id)) << id;
    for (const auto& dir : cgroup_parent_dirs(cgroups_path(id))) EXPECT_FALSE(fs::exists(dir)) << dir;
  }

  static void wait_until_gone(pid_t pid) {
    for (int i = 0; i < 500 && ::kill(pid, 0) == 0; ++i) {
      ::waitpid(pid, nullptr, WNOHANG);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  TempDir work_{"mcore-oci-test"};
  std::unique_ptr<McoreSandbox> sandbox_;
  fs::path bundle_;
  json config_;
};

}  // namespace mcore::test
