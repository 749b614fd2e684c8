// The launcher's errors reach the caller as the real error, never as "the container's launcher exited
// without a report": a record missing, the liveness lock held by another supervisor, and a driver
// failing at each step of the start (storage, resource, the init's exec).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include "engine/container/container_control.hpp"
#include "engine/start/container_launch.hpp"
#include "engine/container/container_liveness.hpp"
#include "engine/container/container_store.hpp"
#include "engine/context/engine.hpp"
#include "engine/util/file_util.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

class LaunchErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
    engine::GlobalOptions options;
    options.config_path = sandbox_->config_file();
    engine_ = std::make_unique<engine::Engine>(options);
    engine_->secure_roots();
  }

  engine::ContainerSpec spec(std::vector<std::string> args) {
    engine::ContainerSpec spec;
    spec.id = engine::new_container_id();
    spec.name = "launch-" + spec.id.substr(0, 8);
    spec.hostname = spec.id.substr(0, 12);
    spec.rootfs = shared_busybox_rootfs();
    spec.args = std::move(args);
    spec.env = {"PATH=/bin"};
    spec.network = engine::NetworkMode::none;
    return spec;
  }

  // Creates the container and launches it; returns what the caller learns.
  engine::LaunchReport launch(const engine::ContainerSpec& container) {
    engine::create_container(*engine_, container);
    return engine::launch_container(*engine_, container.id);
  }

  static std::string message(const engine::LaunchReport& report) {
    return report.failure ? std::string(report.failure->what()) : std::string("(no failure)");
  }

  void expect_not_lost(const engine::LaunchReport& report) {
    EXPECT_EQ(message(report).find("without a report"), std::string::npos) << message(report);
  }

  std::unique_ptr<McoreSandbox> sandbox_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST_F(LaunchErrorsTest, AMissingRecordIsNamed) {
  const auto report = engine::launch_container(*engine_, std::string(64, 'a'));
  EXPECT_EQ(report.exit_code, 125);
  EXPECT_NE(message(report).find("no such container: " + std::string(64, 'a')), std::string::npos) << message(report);
}

TEST_F(LaunchErrorsTest, ALivenessLockHeldByAnotherSupervisorIsNamed) {
  const auto container = spec({"true"});
  engine::create_container(*engine_, container);
  const auto paths = engine::runtime_paths(engine_->config(), container.id);
  fs::create_directories(paths.dir);
  UniqueFd held(::open(paths.supervisor_lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  struct flock lock {};
  lock.l_type = F_WRLCK;
  ASSERT_EQ(::fcntl(held.get(), F_OFD_SETLK, &lock), 0);
  const auto report = engine::launch_container(*engine_, container.id);
  EXPECT_EQ(report.exit_code, 125);
  EXPECT_NE(message(report).find("already running"), std::string::npos) << message(report);
}

TEST_F(LaunchErrorsTest, AStorageFailureIsNamedAndRecorded) {
  auto container = spec({"true"});
  container.rootfs.clear();
  container.image_layers = {"sha256:" + std::string(64, 'b')};  // a layer the store does not have
  const auto report = launch(container);
  EXPECT_EQ(report.exit_code, 125);
  expect_not_lost(report);
  EXPECT_NE(message(report).find(std::string(12, 'b')), std::string::npos) << message(report);
  const auto record = engine::ContainerStore(engine_->config().data_root).load(container.id);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->error, message(report));
}

TEST_F(LaunchErrorsTest, AResourceFailureIsNamed) {
  auto container = spec({"true"});
  container.limits.cpuset_cpus = "4095";  // no such CPU
  const auto report = launch(container);
  EXPECT_EQ(report.exit_code, 125);
  expect_not_lost(report);
  EXPECT_NE(message(report).find("4095"), std::string::npos) << message(report);
}

TEST_F(LaunchErrorsTest, AnInitThatCannotExecTheCommandIsNamed) {
  const auto report = launch(spec({"/no/such/command"}));
  EXPECT_EQ(report.exit_code, 127);
  EXPECT_NE(message(report).find("/no/such/command"), std::string::npos) << message(report);
}

TEST_F(LaunchErrorsTest, AStartedCommandReportsNoFailure) {
  const auto report = launch(spec({"true"}));
  EXPECT_EQ(report.exit_code, 0) << message(report);
  EXPECT_FALSE(report.failure) << message(report);
}

// mcore without its mcore-supervisor beside it: the start fails with that named, and the command,
// which nobody would supervise, is not left running.
TEST_F(LaunchErrorsTest, AMissingSupervisorIsNamedAndNothingIsLeftRunning) {
  TempDir bin("mcore-bin");
  std::error_code error;
  fs::create_hard_link(MCORE_BINARY, bin.path() / "mcore", error);
  if (error) fs::copy_file(MCORE_BINARY, bin.path() / "mcore");
  auto argv = sandbox_->mcore_argv({"run", "--name", "unsupervised", "--rootfs", shared_busybox_rootfs().string(),
                                    "sleep", "1000"});
  argv.front() = (bin.path() / "mcore").string();
  const auto result = run_command(argv);
  EXPECT_EQ(result.exit_code, 125) << result.err;
  EXPECT_NE(result.err.find("mcore-supervisor is missing"), std::string::npos) << result.err;
  const auto inspected = run_command(sandbox_->mcore_argv({"inspect", "--type", "container", "unsupervised"}));
  const auto json = nlohmann::json::parse(inspected.out, nullptr, false);
  ASSERT_TRUE(json.is_array() && !json.empty()) << inspected.out << inspected.err;
  EXPECT_EQ(json[0]["State"].value("Status", ""), "exited") << json.dump();
  EXPECT_NE(json[0]["State"].value("Error", "").find("mcore-supervisor is missing"), std::string::npos) << json.dump();
  EXPECT_TRUE(sandbox_->processes_named("sleep").empty());
}

}  // namespace
}  // namespace mcore::test
