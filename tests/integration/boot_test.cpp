// `mcore boot` after crashes and reboots: containers lost while running come back as their restart
// policies say (Docker's rules at daemon start), in dependency order within a deployment; a second run
// changes nothing; the systemd unit that runs it is installed. Supervisors are killed with SIGKILL, and
// a reboot is stood in for by also wiping the state root (/run).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "engine/container/container_boot.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class BootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  CommandResult mcore(const std::vector<std::string>& args) { return sandbox_->mcore(args); }

  void run_detached(const std::string& name, const std::vector<std::string>& flags) {
    std::vector<std::string> args{"run", "-d", "--name", name};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--rootfs", shared_busybox_rootfs().string(), "sleep", "1000"});
    auto result = mcore(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  std::string status_of(const std::string& name) {
    auto json = nlohmann::json::parse(mcore({"inspect", name}).out, nullptr, false);
    return json.is_array() && !json.empty() ? json[0]["State"].value("Status", "") : "";
  }

  // SIGKILL to every supervisor of the sandbox, as a crash; their containers die with them. A launcher
  // reports its start before it execs the supervisor: wait for all `running` ones first, and kill again
  // while any shows up.
  void crash(std::size_t running) {
    for (int i = 0; i < 100 && sandbox_->supervisor_processes().size() < running; ++i) {
      std::this_thread::sleep_for(50ms);
    }
    for (int i = 0; i < 100; ++i) {
      const auto supervisors = sandbox_->supervisor_processes();
      if (supervisors.empty()) return;
      for (pid_t pid : supervisors) ::kill(pid, SIGKILL);
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(sandbox_->supervisor_processes().empty()) << "a supervisor survived SIGKILL";
  }

  void wipe_state_root() {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(sandbox_->state_root(), error)) fs::remove_all(entry.path(), error);
  }

  std::unique_ptr<McoreSandbox> sandbox_;
  TempDir work_{"mcore-boot"};
};

TEST_F(BootTest, LostContainersComeBackAsTheirPoliciesSayAndASecondBootChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(run_detached("always", {"--restart", "always"}));
  ASSERT_NO_FATAL_FAILURE(run_detached("unless", {"--restart", "unless-stopped"}));
  ASSERT_NO_FATAL_FAILURE(run_detached("failure", {"--restart", "on-failure:3"}));
  ASSERT_NO_FATAL_FAILURE(run_detached("never", {}));
  ASSERT_NO_FATAL_FAILURE(run_detached("stopped-unless", {"--restart", "unless-stopped"}));
  ASSERT_NO_FATAL_FAILURE(run_detached("stopped-always", {"--restart", "always"}));
  ASSERT_EQ(mcore({"stop", "-t", "0", "stopped-unless", "stopped-always"}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(crash(4));
  // Before boot they read as exited: their supervisors are gone.
  for (const char* name : {"always", "unless", "failure"}) EXPECT_EQ(status_of(name), "exited") << name;

  auto boot = mcore({"boot"});
  EXPECT_EQ(boot.exit_code, 0) << boot.out << boot.err;
  for (const char* name : {"always", "unless", "failure", "stopped-always"}) {
    EXPECT_EQ(status_of(name), "running") << name << "\n" << boot.out << boot.err;
  }
  EXPECT_EQ(status_of("never"), "exited");
  EXPECT_EQ(status_of("stopped-unless"), "exited");
  EXPECT_NE(boot.out.find("Exited: never"), std::string::npos) << boot.out;

  auto again = mcore({"boot"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.find("Started:"), std::string::npos) << again.out;
}

TEST_F(BootTest, AfterARebootLikeLossOfTheStateRootTheyComeBack) {
  ASSERT_NO_FATAL_FAILURE(run_detached("always", {"--restart", "always"}));
  ASSERT_NO_FATAL_FAILURE(run_detached("never", {}));
  ASSERT_NO_FATAL_FAILURE(crash(2));
  wipe_state_root();
  auto boot = mcore({"boot"});
  EXPECT_EQ(boot.exit_code, 0) << boot.out << boot.err;
  EXPECT_EQ(status_of("always"), "running") << boot.out << boot.err;
  EXPECT_EQ(status_of("never"), "exited");
  EXPECT_EQ(mcore({"exec", "always", "true"}).exit_code, 0);
}

TEST_F(BootTest, ADeploymentStartsInDependencyOrder) {
  const fs::path archive = work_.path() / "rootfs.tar";
  ASSERT_EQ(run_command({"/usr/bin/tar", "-C", shared_busybox_rootfs().string(), "-cf", archive.string(), "."}).exit_code, 0);
  ASSERT_EQ(mcore({"import", archive.string(), "box:1"}).exit_code, 0);
  // Declared in the reverse of the order they must start in.
  const nlohmann::json deployment = {
      {"name", "shop"},
      {"services",
       {{"web", {{"image", "box:1"}, {"command", {"sleep", "1000"}}, {"restart", "always"}, {"depends_on", {"api"}}}},
        {"api", {{"image", "box:1"}, {"command", {"sleep", "1000"}}, {"restart", "always"}, {"depends_on", {"db"}}}},
        {"db", {{"image", "box:1"}, {"command", {"sleep", "1000"}}, {"restart", "always"}}}}}};
  const fs::path file = work_.path() / "shop.json";
  std::ofstream(file) << deployment.dump(2);
  auto up = mcore({"up", "-d", "-f", file.string()});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  ASSERT_NO_FATAL_FAILURE(crash(3));
  auto boot = mcore({"boot"});
  ASSERT_EQ(boot.exit_code, 0) << boot.out << boot.err;
  const auto db = boot.out.find("Started: shop-db-1"), api = boot.out.find("Started: shop-api-1"),
             web = boot.out.find("Started: shop-web-1");
  ASSERT_NE(web, std::string::npos) << boot.out;
  EXPECT_LT(db, api) << boot.out;
  EXPECT_LT(api, web) << boot.out;
  mcore({"down", "-f", file.string()});
}

TEST(BootOrder, EachServiceAfterWhatItDependsOnTheRestAsGiven) {
  EXPECT_EQ(engine::dependency_order({"web", "api", "db", "cache"}, {{"web", {"api", "cache"}}, {"api", {"db"}}}),
            (std::vector<std::string>{"db", "api", "cache", "web"}));
  // A cycle the validator let through is cut, never looped on; an unknown name is ignored.
  EXPECT_EQ(engine::dependency_order({"a", "b"}, {{"a", {"b", "ghost"}}, {"b", {"a"}}}),
            (std::vector<std::string>{"b", "a"}));
}

TEST(BootUnit, CmakeInstallPlacesTheSystemdUnitThatRunsBoot) {
  TempDir prefix("mcore-install");
  // The unit's component only: the plugins' destination is absolute, so installing them would write
  // to the host's plugin directory whatever the prefix.
  auto installed = run_command({"/usr/bin/cmake", "--install", MCORE_BUILD_DIR, "--prefix", prefix.path().string(),
                                "--component", "systemd"});
  ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  const std::string unit = read_text(prefix.path() / "lib/systemd/system/mcore.service");
  EXPECT_NE(unit.find("ExecStart="), std::string::npos) << unit;
  EXPECT_NE(unit.find("/bin/mcore boot"), std::string::npos) << unit;
  EXPECT_NE(unit.find("WantedBy=multi-user.target"), std::string::npos) << unit;
  EXPECT_FALSE(fs::exists(prefix.path() / "bin/mcore")) << "the unit's component installed more than the unit";
}

}  // namespace
}  // namespace mcore::test
