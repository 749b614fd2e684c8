// A container record that cannot be read (a torn write, a full disk, a hand edit) never makes what the
// container uses collectable: `ps -a` shows it, image prune and rmi keep its image and layers, volume
// rm and prune keep every volume, `prune` goes on past it, the verbs that need it name the file and the
// way out, and `rm -f` removes it by what its id alone names.
#include <gtest/gtest.h>

#include <fstream>

#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

class UnreadableRecordTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
    const fs::path archive = work_.path() / "rootfs.tar";
    ASSERT_EQ(run_command({"/usr/bin/tar", "-C", shared_busybox_rootfs().string(), "-cf", archive.string(), "."}).exit_code,
              0);
    auto imported = mcore({"import", archive.string(), "box:1"});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
  }

  CommandResult mcore(const std::vector<std::string>& args) { return sandbox_->mcore(args); }

  std::string run_detached(const std::string& name, const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args{"run", "-d", "--name", name};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"box:1", "sleep", "1000"});
    auto result = mcore(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::string id = result.out;
    while (!id.empty() && id.back() == '\n') id.pop_back();
    return id;
  }

  fs::path record_of(const std::string& id) const { return sandbox_->data_root() / "containers" / id / "container.json"; }

  // The record's content replaced by the test's parameter ("" makes it empty).
  void damage(const std::string& id) { std::ofstream(record_of(id), std::ios::trunc) << GetParam(); }

  std::size_t layer_count() const {
    std::size_t count = 0;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(sandbox_->data_root() / "storage" / "overlay" / "layers", error)) {
      if (entry.path().filename().string().size() == 64) ++count;  // a layer, not a tmp-apply-* directory
    }
    return count;
  }

  std::unique_ptr<McoreSandbox> sandbox_;
  TempDir work_{"mcore-unreadable"};
};

TEST_P(UnreadableRecordTest, ItIsShownKeepsItsImageAndIsRemovedOnlyByRmForce) {
  const std::string id = run_detached("damaged", {"-v", "keep:/data"});
  const std::string other = run_detached("healthy");
  ASSERT_EQ(mcore({"stop", "-t", "0", "healthy"}).exit_code, 0);
  const std::size_t layers = layer_count();
  ASSERT_GT(layers, 0u);
  damage(id);

  // ps shows it, running, under its name; it is not silently dropped.
  auto ps = mcore({"ps"});
  EXPECT_NE(ps.out.find("Unreadable record (running)"), std::string::npos) << ps.out;
  EXPECT_NE(ps.out.find("damaged"), std::string::npos) << ps.out;

  // Nothing it may use is collected.
  auto pruned_images = mcore({"image", "prune", "-a", "-f"});
  EXPECT_EQ(pruned_images.exit_code, 0) << pruned_images.err;
  EXPECT_NE(mcore({"images"}).out.find("box"), std::string::npos) << "the image was deleted";
  EXPECT_EQ(layer_count(), layers) << "layers were deleted";
  auto rmi = mcore({"rmi", "box:1"});
  EXPECT_NE(rmi.exit_code, 0);
  EXPECT_NE(rmi.err.find("cannot be read"), std::string::npos) << rmi.err;
  EXPECT_NE(mcore({"volume", "rm", "keep"}).exit_code, 0) << "a volume it may mount was removed";
  EXPECT_NE(mcore({"volume", "prune", "-a", "-f"}).exit_code, 0);
  EXPECT_TRUE(fs::exists(sandbox_->data_root() / "volumes" / "keep"));

  // prune goes on past it: the stopped container goes, the damaged one stays and is named.
  auto pruned = mcore({"prune", "-f"});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_NE(pruned.out.find(other), std::string::npos) << pruned.out;
  EXPECT_NE(pruned.err.find(record_of(id).string()), std::string::npos) << pruned.err;
  EXPECT_TRUE(fs::exists(record_of(id)));

  // The verbs that need the record name it and the way out, never a raw JSON error; logs, which does
  // not need it, says so too and shows the log.
  for (const std::vector<std::string>& verb : std::vector<std::vector<std::string>>{
           {"inspect", "damaged"}, {"stop", "damaged"}, {"logs", "damaged"}, {"exec", "damaged", "true"}}) {
    auto result = mcore(verb);
    EXPECT_EQ(result.exit_code == 0, verb.front() == "logs") << verb.front() << ": " << result.err;
    EXPECT_NE(result.err.find(record_of(id).string()), std::string::npos) << verb.front() << ": " << result.err;
    EXPECT_NE(result.err.find("mcore rm -f"), std::string::npos) << verb.front() << ": " << result.err;
    EXPECT_EQ(result.err.find("json.exception"), std::string::npos) << verb.front() << ": " << result.err;
  }

  // rm refuses a running one; rm -f stops and removes it, and its name is free again.
  EXPECT_NE(mcore({"rm", "damaged"}).exit_code, 0);
  auto removed = mcore({"rm", "-f", "damaged"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_FALSE(fs::exists(record_of(id).parent_path()));
  EXPECT_FALSE(fs::exists(sandbox_->state_root() / "containers" / id));
  EXPECT_EQ(mcore({"ps", "-a", "-q"}).out, "");
  EXPECT_FALSE(run_detached("damaged").empty());
  // Now the image is collectable again once its last user goes.
  EXPECT_EQ(mcore({"rm", "-f", "damaged"}).exit_code, 0);
  EXPECT_EQ(mcore({"rmi", "box:1"}).exit_code, 0);
  EXPECT_LT(layer_count(), layers);
}

std::string damage_name(const ::testing::TestParamInfo<std::string>& info) {
  static const char* const kNames[] = {"Empty", "Truncated", "NotAnObject", "WrongTypes"};
  return kNames[info.index];
}

INSTANTIATE_TEST_SUITE_P(Damage, UnreadableRecordTest,
                         ::testing::Values("", "{\"id\": \"trunc", "[1,2]", "{\"state\": 5}"), damage_name);

}  // namespace
}  // namespace mcore::test
