// Container names after a crash: a name and its record change together or are repaired together by the
// next command, so no two containers ever share a name and no dead reservation blocks one. Each test
// leaves the store as a kill -9 at one point would (tests/faults kills at every point for real).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>

#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

class ContainerNamesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  CommandResult mcore(const std::vector<std::string>& args) { return sandbox_->mcore(args); }

  // `mcore run --name NAME true` (it exits at once); its id.
  std::string ran(const std::string& name) {
    auto result = mcore({"run", "--name", name, "--rootfs", shared_busybox_rootfs().string(), "true"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return id_of(name);
  }

  std::string id_of(const std::string& name) {
    auto json = nlohmann::json::parse(mcore({"inspect", name}).out, nullptr, false);
    return json.is_array() && !json.empty() ? json[0].value("Id", "") : "";
  }

  fs::path containers() const { return sandbox_->data_root() / "containers"; }

  // The names `ps -a` shows, one per container.
  std::vector<std::string> listed_names() {
    std::vector<std::string> names;
    auto listed = nlohmann::json::parse(mcore({"ps", "-a", "--format", "json"}).out, nullptr, false);
    for (const auto& row : listed) names.push_back(row.value("Names", ""));
    std::sort(names.begin(), names.end());
    return names;
  }

  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(ContainerNamesTest, ANameWhoseRecordIsGoneIsTakenOver) {
  // rm killed after the record went, before the name: the name points at nothing.
  const std::string id = ran("web");
  fs::remove_all(containers() / id);
  ASSERT_TRUE(fs::is_symlink(containers() / "names" / "web"));
  EXPECT_NE(ran("web"), "");
  EXPECT_EQ(listed_names(), std::vector<std::string>{"web"});
}

TEST_F(ContainerNamesTest, AnAbandonedCreationDoesNotBlockItsNameAndPruneRemovesIt) {
  // run killed after reserving the name, before its record was in place.
  const std::string dead_id(64, 'a');
  fs::create_directories(containers() / (".new-" + dead_id));
  fs::create_directories(containers() / "names");
  fs::create_symlink(dead_id, containers() / "names" / "db");
  EXPECT_NE(ran("db"), "");
  EXPECT_EQ(listed_names(), std::vector<std::string>{"db"});
  EXPECT_FALSE(fs::exists(containers() / (".new-" + dead_id)));
  fs::create_directories(containers() / (".new-" + std::string(64, 'b')));
  EXPECT_EQ(mcore({"prune", "-f"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(containers() / (".new-" + std::string(64, 'b'))));
}

TEST_F(ContainerNamesTest, ACreationInProgressKeepsItsName) {
  const std::string busy_id(64, 'c');
  const fs::path staging = containers() / (".new-" + busy_id);
  fs::create_directories(staging);
  fs::create_directories(containers() / "names");
  fs::create_symlink(busy_id, containers() / "names" / "cache");
  const int held = ::open(staging.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_EQ(::flock(held, LOCK_EX), 0);  // its creator is still at work
  auto result = mcore({"run", "--name", "cache", "--rootfs", shared_busybox_rootfs().string(), "true"});
  ::close(held);
  EXPECT_EQ(result.exit_code, 125);
  EXPECT_NE(result.err.find("already in use by container cccccccccccc"), std::string::npos) << result.err;
}

TEST_F(ContainerNamesTest, ARenameCutShortLeavesNoSecondHolder) {
  // rename killed after the record took the new name, before the old link went.
  const std::string id = ran("old");
  ASSERT_EQ(mcore({"rename", "old", "new"}).exit_code, 0);
  fs::create_symlink(id, containers() / "names" / "old");  // as the crash left it
  EXPECT_NE(ran("old"), "");
  EXPECT_NE(id_of("old"), id);
  EXPECT_EQ(id_of("new"), id);
  EXPECT_EQ(listed_names(), (std::vector<std::string>{"new", "old"}));
}

}  // namespace
}  // namespace mcore::test
