// mcore on a full disk: the data root and the state root each on a small tmpfs of the test's own,
// filled to the last byte. Removal must still work (it deletes without writing first), an exit is
// still recorded with its real code, lost log entries are counted and marked, and what killed commands
// left behind is reclaimed by prune and image prune.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A tmpfs of `size` mounted on `dir` for the test's life.
class SmallFilesystem {
 public:
  SmallFilesystem(fs::path dir, const std::string& size) : dir_(std::move(dir)) {
    fs::create_directories(dir_);
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, ("size=" + size + ",mode=0700").c_str()) == 0;
    EXPECT_TRUE(mounted_) << "mount a tmpfs on " << dir_;
  }
  ~SmallFilesystem() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }

  // Fills it up: a file as large as the space left.
  void fill() {
    std::ofstream filler(dir_ / "filler", std::ios::binary);
    const std::string block(1 << 16, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
    std::ofstream(dir_ / "filler-small", std::ios::binary) << std::string(4096, 'x');
  }
  void free() {
    std::error_code error;
    fs::remove(dir_ / "filler", error);
    fs::remove(dir_ / "filler-small", error);
  }

 private:
  fs::path dir_;
  bool mounted_ = false;
};

class FullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override { MCORE_REQUIRE_ROOT(); }

  CommandResult mcore(const std::vector<std::string>& args) { return sandbox_->mcore(args); }

  std::string run_detached(const std::string& name, const std::string& script) {
    auto result = mcore({"run", "-d", "--name", name, "--rootfs", shared_busybox_rootfs().string(), "sh", "-c", script});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::string id = result.out;
    while (!id.empty() && id.back() == '\n') id.pop_back();
    return id;
  }

  nlohmann::json inspect(const std::string& name) {
    auto json = nlohmann::json::parse(mcore({"inspect", name}).out, nullptr, false);
    return json.is_array() && !json.empty() ? json[0] : nlohmann::json::object();
  }

  // Waits until the container is no longer running (its supervisor gone).
  void wait_exited(const std::string& name) {
    for (int i = 0; i < 100 && inspect(name)["State"].value("Running", true); ++i) std::this_thread::sleep_for(100ms);
  }

  std::unique_ptr<McoreSandbox> sandbox_ = std::make_unique<McoreSandbox>();
};

TEST_F(FullDiskTest, RemovalAndPruneWorkOnAFullDataRoot) {
  SmallFilesystem data(sandbox_->data_root(), "48m");
  const std::string stopped = run_detached("stopped", "exit 3");
  wait_exited("stopped");
  run_detached("running", "exec sleep 1000");
  run_detached("other", "exec sleep 1000");
  data.fill();
  EXPECT_NE(mcore({"stop", "-t", "0", "other"}).exit_code, 125) << "stop must not need a record write to happen";

  auto removed = mcore({"rm", "stopped"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  auto forced = mcore({"rm", "-f", "running"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  auto pruned = mcore({"prune", "-f"});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_EQ(mcore({"ps", "-a", "-q"}).out, "");
  EXPECT_FALSE(fs::exists(sandbox_->data_root() / "containers" / stopped));
}

TEST_F(FullDiskTest, AnExitIsRecordedWithItsCodeOnAFullStateRoot) {
  SmallFilesystem state(sandbox_->state_root(), "1m");
  run_detached("job", "sleep 1; exit 7");
  state.fill();
  wait_exited("job");
  EXPECT_EQ(inspect("job")["State"].value("ExitCode", -1), 7);
  // And `stop`: the stop signal's exit, not 255.
  state.free();
  run_detached("server", "trap 'exit 42' TERM; while true; do sleep 0.1; done");
  state.fill();
  ASSERT_EQ(mcore({"stop", "-t", "5", "server"}).exit_code, 0);
  EXPECT_EQ(inspect("server")["State"].value("ExitCode", -1), 42);
}

TEST_F(FullDiskTest, LostLogEntriesAreCountedAndMarked) {
  SmallFilesystem data(sandbox_->data_root(), "48m");
  run_detached("talker", "while true; do echo tick; sleep 0.1; done");
  std::this_thread::sleep_for(500ms);
  data.fill();
  // The log's last page still takes a few lines; then writes fail.
  std::uint64_t failures = 0;
  for (int i = 0; i < 150 && failures == 0; ++i, std::this_thread::sleep_for(100ms)) {
    failures = inspect("talker").value("LogWriteFailures", std::uint64_t{0});
  }
  EXPECT_GT(failures, 0u) << inspect("talker").dump(2);
  data.free();
  std::this_thread::sleep_for(500ms);
  auto logs = mcore({"logs", "talker"});
  EXPECT_NE(logs.err.find("log entries were lost here: the log could not be written (No space left on device)"),
            std::string::npos)
      << logs.err;
  ASSERT_EQ(mcore({"rm", "-f", "talker"}).exit_code, 0);
}

TEST_F(FullDiskTest, WhatKilledCommandsLeftIsReclaimedByPruneAndImagePrune) {
  ASSERT_EQ(mcore({"volume", "ls"}).exit_code, 0);  // the roots
  const fs::path data = sandbox_->data_root();
  const std::vector<fs::path> leftovers = {
      data / "images" / "blobs" / "tmp" / "add-AbCdEf",
      data / "images" / "blobs" / "tmp" / std::string(64, 'e'),
      data / "storage" / "overlay" / "layers" / "tmp-apply-0123456789abcdef" / "diff" / "file",
      data / "volumes" / ".new-halfway-999999999" / "_data" / "file",
      data / "containers" / std::string(64, 'f') / "hosts",
  };
  for (const auto& path : leftovers) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << "left behind";
  }
  auto pruned = mcore({"prune", "-f"});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
  for (const auto& path : leftovers) EXPECT_FALSE(fs::exists(path)) << path << "\n" << pruned.out;
  EXPECT_FALSE(fs::exists(data / "containers" / std::string(64, 'f')));
  // image prune reclaims the blob temporaries too (a pull killed midway leaves its partial download).
  std::ofstream(data / "images" / "blobs" / "tmp" / std::string(64, 'd')) << "partial";
  auto image_pruned = mcore({"image", "prune", "-f"});
  EXPECT_EQ(image_pruned.exit_code, 0) << image_pruned.err;
  EXPECT_FALSE(fs::exists(data / "images" / "blobs" / "tmp" / std::string(64, 'd'))) << image_pruned.out;
}

}  // namespace
}  // namespace mcore::test
