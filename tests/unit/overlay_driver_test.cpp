// The overlay storage driver, loaded from its plugin file as the engine loads it. No root and no mounts:
// these tests check the mount it describes and the directories it makes and deletes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>
#include <gtest/gtest.h>

#include "mcore/error.hpp"
#include "mcore/plugin.hpp"
#include "mcore/storage_driver.hpp"
#include "plugin_driver.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using mcore::test::read_text;

namespace {

const fs::path kPluginFile = fs::path(MCORE_PLUGIN_BUILD_DIR) / "mcore-storage-overlay.so";

// Runs `action` and returns the mcore::Error it throws; fails the test when it throws nothing.
mcore::Error expect_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const mcore::Error& error) {
    return error;
  }
  ADD_FAILURE() << "expected an mcore::Error, nothing was thrown";
  return mcore::Error("nothing was thrown");
}

// Whether the error's text contains `expected`; says both when not.
::testing::AssertionResult says(const mcore::Error& error, const std::string& expected) {
  if (std::string(error.what()).find(expected) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected the error to say \"" << expected << "\", it said \""
                                       << error.what() << "\"";
}

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// A request stacking `lowers` (lowest first) as the container's root filesystem.
mcore::RootfsRequest rootfs_request(std::string id, std::vector<fs::path> lowers) {
  return {.container_id = std::move(id), .layers = {}, .external_lowers = std::move(lowers)};
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

class OverlayDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kPluginFile)) << kPluginFile << " is missing: build target mcore-storage-overlay";
    library_.load(kPluginFile.string(), boost::dll::load_mode::rtld_now);
    descriptor_ = &library_.get_alias<const mcore::PluginDescriptor>("mcore_plugin_descriptor");
  }

  std::shared_ptr<mcore::StorageDriver> make_driver(nlohmann::json config = nlohmann::json::object()) {
    mcore::HostContext context;
    context.config = std::move(config);
    context.config_path = "storage";
    context.data_root = data_root();
    context.state_root = dir_.path() / "state";
    return mcore::test::load_plugin_driver<mcore::StorageDriver>(kPluginFile.filename().string(), context);
  }

  fs::path data_root() const { return dir_.path() / "data"; }
  fs::path store() const { return data_root() / "storage" / "overlay"; }
  fs::path container_dir(const std::string& id) const { return store() / "containers" / id; }

  // A directory outside the store, standing in for `mcore run --rootfs DIR`.
  fs::path make_lower(const std::string& name) {
    const fs::path path = dir_.path() / "lowers" / name;
    fs::create_directories(path);
    return path;
  }

  mcore::test::TempDir dir_{"mcore-overlay-unit"};
  boost::dll::shared_library library_;
  const mcore::PluginDescriptor* descriptor_ = nullptr;
};

TEST_F(OverlayDriverTest, DescriptorNamesAStorageDriverCalledOverlay) {
  EXPECT_EQ(descriptor_->abi_major, mcore::kAbiMajor);
  EXPECT_EQ(descriptor_->abi_minor, mcore::kAbiMinor);
  EXPECT_EQ(descriptor_->kind, mcore::DriverKind::storage);
  EXPECT_STREQ(descriptor_->name, "overlay");
  EXPECT_STREQ(descriptor_->build_tag, MCORE_BUILD_TAG);
}

TEST_F(OverlayDriverTest, PlanIsOneOverlayMountWithTheTopmostLowerFirst) {
  auto driver = make_driver();
  const fs::path bottom = make_lower("bottom");
  const fs::path middle = make_lower("middle");
  const fs::path top = make_lower("top");

  const auto plan = driver->prepare_rootfs(rootfs_request("c1", {bottom, middle, top}));

  const fs::path dir = container_dir("c1");
  ASSERT_EQ(plan.mounts.size(), 1u);
  const auto& mount = plan.mounts[0];
  EXPECT_EQ(mount.source, "overlay");
  EXPECT_EQ(mount.fstype, "overlay");
  EXPECT_EQ(mount.target, dir / "merged");
  EXPECT_EQ(mount.flags, 0ul);
  // Paths in the store are relative to the working directory, external lowers stay absolute.
  EXPECT_EQ(mount.working_directory, store());
  EXPECT_EQ(mount.data, "lowerdir=" + top.string() + ":" + middle.string() + ":" + bottom.string() +
                            ",upperdir=containers/c1/upper,workdir=containers/c1/work");
  EXPECT_EQ(plan.rootfs, dir / "merged");
  EXPECT_EQ(plan.upper_dir, dir / "upper");

  EXPECT_EQ(mode_of(dir), 0700u) << "the container directory keeps other users out of the writable layer";
  EXPECT_EQ(mode_of(dir / "upper"), 0755u) << "the upper directory's mode becomes the container's /";
  EXPECT_EQ(mode_of(dir / "work"), 0700u);
  EXPECT_EQ(mode_of(dir / "merged"), 0755u);
}

TEST_F(OverlayDriverTest, PrepareAgainReturnsTheSamePlanAndKeepsTheWritableLayer) {
  auto driver = make_driver();
  const auto request = rootfs_request("c1", {make_lower("rootfs")});
  const auto first = driver->prepare_rootfs(request);
  write_text(first.upper_dir / "kept", "written by the container");

  const auto second = driver->prepare_rootfs(request);

  ASSERT_EQ(second.mounts.size(), 1u);
  EXPECT_EQ(second.mounts[0].data, first.mounts[0].data);
  EXPECT_EQ(second.mounts[0].target, first.mounts[0].target);
  EXPECT_EQ(second.mounts[0].working_directory, first.mounts[0].working_directory);
  EXPECT_EQ(second.rootfs, first.rootfs);
  EXPECT_EQ(second.upper_dir, first.upper_dir);
  EXPECT_EQ(read_text(second.upper_dir / "kept"), "written by the container");
}

TEST_F(OverlayDriverTest, ReleaseDeletesTheContainerAndIsIdempotent) {
  auto driver = make_driver();
  const auto plan = driver->prepare_rootfs(rootfs_request("c1", {make_lower("rootfs")}));
  fs::create_directories(plan.upper_dir / "etc" / "deep");
  write_text(plan.upper_dir / "etc" / "deep" / "file", "x");

  driver->release_rootfs("c1");
  EXPECT_FALSE(fs::exists(container_dir("c1")));
  EXPECT_TRUE(fs::exists(store() / "containers")) << "only the container's own directory goes";

  EXPECT_NO_THROW(driver->release_rootfs("c1"));
  EXPECT_NO_THROW(driver->release_rootfs("never-prepared"));
}

TEST_F(OverlayDriverTest, ReleaseBeforeAnyPrepareIsNotAnError) {
  auto driver = make_driver();
  EXPECT_NO_THROW(driver->release_rootfs("c1"));
  EXPECT_FALSE(fs::exists(store())) << "release creates nothing";
}

TEST_F(OverlayDriverTest, ReleaseNeverFollowsSymlinksOutOfTheTree) {
  auto driver = make_driver();
  const auto plan = driver->prepare_rootfs(rootfs_request("c1", {make_lower("rootfs")}));
  const fs::path outside = dir_.path() / "outside";
  fs::create_directories(outside / "sub");
  write_text(outside / "precious", "keep me");
  write_text(outside / "sub" / "precious", "keep me too");
  fs::create_directory_symlink(outside, plan.upper_dir / "dir-link");
  fs::create_symlink(outside / "precious", plan.upper_dir / "file-link");
  fs::create_directory_symlink(outside, container_dir("c1") / "work" / "work-link");

  driver->release_rootfs("c1");

  EXPECT_FALSE(fs::exists(container_dir("c1")));
  EXPECT_EQ(read_text(outside / "precious"), "keep me");
  EXPECT_EQ(read_text(outside / "sub" / "precious"), "keep me too");
}

TEST_F(OverlayDriverTest, ReleaseDeletesUnreadableDirectoriesLikeOverlaysWorkWork) {
  auto driver = make_driver();
  const auto plan = driver->prepare_rootfs(rootfs_request("c1", {make_lower("rootfs")}));
  // overlay leaves work/work with mode 000; a container may leave read-only directories in upper.
  const fs::path work_work = container_dir("c1") / "work" / "work";
  fs::create_directories(work_work / "index");
  write_text(work_work / "index" / "entry", "x");
  ASSERT_EQ(::chmod((work_work / "index").c_str(), 0), 0);
  ASSERT_EQ(::chmod(work_work.c_str(), 0), 0);
  fs::create_directories(plan.upper_dir / "ro");
  write_text(plan.upper_dir / "ro" / "file", "x");
  ASSERT_EQ(::chmod((plan.upper_dir / "ro").c_str(), 0555), 0);

  driver->release_rootfs("c1");
  EXPECT_FALSE(fs::exists(container_dir("c1")));
}

TEST_F(OverlayDriverTest, ReleaseDeletesTreesDeeperThanTheDescriptorBudget) {
  auto driver = make_driver();
  const auto plan = driver->prepare_rootfs(rootfs_request("c1", {make_lower("rootfs")}));
  // 150 levels: more than twice the remover's depth budget, and longer than PATH_MAX.
  int fd = ::open(plan.upper_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 150; ++i) {
    ASSERT_EQ(::mkdirat(fd, "a-rather-long-directory-name", 0755), 0);
    const int child = ::openat(fd, "a-rather-long-directory-name", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::close(fd);
    ASSERT_GE(child, 0);
    fd = child;
  }
  const int file = ::openat(fd, "bottom", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  EXPECT_GE(file, 0);
  ::close(file);
  ::close(fd);

  driver->release_rootfs("c1");
  EXPECT_FALSE(fs::exists(container_dir("c1")));
}

TEST_F(OverlayDriverTest, ListsTheContainersThatHaveStorage) {
  auto driver = make_driver();
  EXPECT_TRUE(driver->list_rootfs().empty());
  const fs::path rootfs = make_lower("rootfs");
  driver->prepare_rootfs(rootfs_request("b", {rootfs}));
  driver->prepare_rootfs(rootfs_request("a", {rootfs}));
  EXPECT_EQ(driver->list_rootfs(), (std::vector<std::string>{"a", "b"}));

  driver->release_rootfs("a");
  EXPECT_EQ(driver->list_rootfs(), (std::vector<std::string>{"b"}));
}

TEST_F(OverlayDriverTest, RefusesContainerIdsThatAreNotPlainNames) {
  auto driver = make_driver();
  const fs::path rootfs = make_lower("rootfs");
  for (const std::string& id : {std::string(), std::string("."), std::string(".."), std::string("a/b"),
                               std::string("../escape"), std::string("a\0b", 3)}) {
    auto error = expect_error([&] { driver->prepare_rootfs(rootfs_request(id, {rootfs})); });
    EXPECT_TRUE(says(error, "invalid container id"));
    EXPECT_FALSE(error.hint().empty());
    error = expect_error([&] { driver->release_rootfs(id); });
    EXPECT_TRUE(says(error, "invalid container id"));
  }
  EXPECT_FALSE(fs::exists(store() / "escape"));
  EXPECT_FALSE(fs::exists(store() / "containers")) << "a refused request creates nothing";
}

TEST_F(OverlayDriverTest, RefusesAMissingRootfsAndCreatesNothing) {
  auto driver = make_driver();
  const fs::path missing = dir_.path() / "no-such-rootfs";
  const auto error = expect_error(
      [&] { driver->prepare_rootfs(rootfs_request("c1", {make_lower("ok"), missing})); });
  EXPECT_TRUE(says(error, "rootfs " + missing.string() + " does not exist"));
  EXPECT_FALSE(error.hint().empty());
  EXPECT_FALSE(fs::exists(container_dir("c1")));
}

TEST_F(OverlayDriverTest, RefusesARootfsThatIsNotAnAbsoluteDirectory) {
  auto driver = make_driver();
  const fs::path file = dir_.path() / "a-file";
  write_text(file, "x");
  auto error = expect_error([&] { driver->prepare_rootfs(rootfs_request("c1", {file})); });
  EXPECT_TRUE(says(error, file.string() + " is not a directory"));

  error = expect_error([&] { driver->prepare_rootfs(rootfs_request("c1", {"relative/dir"})); });
  EXPECT_TRUE(says(error, "not an absolute path"));

  error = expect_error([&] { driver->prepare_rootfs(rootfs_request("c1", {})); });
  EXPECT_TRUE(says(error, "neither image layers nor a root filesystem"));
}

TEST_F(OverlayDriverTest, RefusesPathsThatOverlayOptionsCannotCarry) {
  auto driver = make_driver();
  for (const std::string name : {"with,comma", "with:colon", "with\\backslash"}) {
    const fs::path lower = make_lower(name);
    const auto error = expect_error([&] { driver->prepare_rootfs(rootfs_request("c1", {lower})); });
    EXPECT_TRUE(says(error, lower.string()));
    EXPECT_TRUE(says(error, "cannot carry"));
  }
  // The id becomes part of upperdir and workdir.
  const auto error = expect_error(
      [&] { driver->prepare_rootfs(rootfs_request("a:b", {make_lower("rootfs")})); });
  EXPECT_TRUE(says(error, "cannot carry"));
  EXPECT_FALSE(fs::exists(store() / "containers"));
}

TEST_F(OverlayDriverTest, RefusesAStackLongerThanOneMountOptionPage) {
  auto driver = make_driver();
  std::vector<fs::path> lowers;
  for (int i = 0; i < 40; ++i) lowers.push_back(make_lower(std::string(100, 'l') + std::to_string(i)));
  const auto error = expect_error([&] { driver->prepare_rootfs(rootfs_request("c1", lowers)); });
  EXPECT_TRUE(says(error, "mount(2) accepts"));
}

TEST_F(OverlayDriverTest, ImageLayersNeedTheLayerStoreWhichIsNotThereYet) {
  auto driver = make_driver();
  EXPECT_FALSE(driver->find_layer("sha256:0123"));
  auto request = rootfs_request("c1", {make_lower("rootfs")});
  request.layers = {"sha256:0123"};
  const auto error = expect_error([&] { driver->prepare_rootfs(request); });
  EXPECT_TRUE(says(error, "layer sha256:0123 is not in the overlay layer store"));
}

TEST_F(OverlayDriverTest, ConfigRootAndMountOptionsShapeThePlan) {
  const fs::path custom = dir_.path() / "custom-root";
  auto driver = make_driver({{"root", custom.string()}, {"mount_options", {"metacopy=on", "volatile"}}});
  const auto plan = driver->prepare_rootfs(rootfs_request("c1", {make_lower("rootfs")}));
  EXPECT_EQ(plan.rootfs, custom / "containers" / "c1" / "merged");
  ASSERT_EQ(plan.mounts.size(), 1u);
  EXPECT_EQ(plan.mounts[0].working_directory, custom);
  const std::string& data = plan.mounts[0].data;
  EXPECT_TRUE(data.ends_with(",upperdir=containers/c1/upper,workdir=containers/c1/work,metacopy=on,volatile"))
      << data;
  EXPECT_FALSE(fs::exists(store()));
}

TEST_F(OverlayDriverTest, RefusesBadConfig) {
  const auto config_error = [&](const nlohmann::json& config) {
    return expect_error([&] { make_driver(config); });
  };
  EXPECT_TRUE(says(config_error({{"rot", "/x"}}), "storage.rot: unknown key"));
  EXPECT_TRUE(says(config_error({{"root", 5}}), "storage.root"));
  EXPECT_TRUE(says(config_error({{"root", "relative"}}), "storage.root"));
  EXPECT_TRUE(says(config_error({{"root", "/var/lib/a:b"}}), "cannot carry"));
  EXPECT_TRUE(says(config_error({{"mount_options", {"upperdir=/tmp"}}}), "storage.mount_options[0]"));
  EXPECT_TRUE(says(config_error({{"mount_options", {"volatile", "a,b"}}}), "storage.mount_options[1]"));
  EXPECT_TRUE(says(config_error({{"mount_options", "volatile"}}), "storage.mount_options"));
}

}  // namespace
