// The overlay driver's layer store: layer ids, entry names, whiteout and xattr rules as plain functions,
// then apply_layer/remove_layer through the plugin. Malicious archives must be refused with nothing
// written outside the layer and no layer left. Whiteouts and trusted.* xattrs need root (skipped else).
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "../../plugins/storage-overlay/layer_paths.hpp"
#include "mcore/error.hpp"
#include "mcore/plugin.hpp"
#include "mcore/storage_driver.hpp"
#include "tar_writer.hpp"
#include "plugin_driver.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using mcore::test::read_text;
using mcore::test::make_tar;
using mcore::test::StringSource;
using mcore::test::tar_device;
using mcore::test::tar_dir;
using mcore::test::tar_file;
using mcore::test::tar_hardlink;
using mcore::test::tar_symlink;
using mcore::test::TarEntry;

namespace {

const fs::path kPluginFile = fs::path(MCORE_PLUGIN_BUILD_DIR) / "mcore-storage-overlay.so";
const std::string kLayerA = "sha256:" + std::string(64, 'a');
const std::string kLayerB = "sha256:" + std::string(63, 'b') + "c";

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const mcore::Error& error) {
    return error.what();
  }
  return "";
}

// Every path below `dir`, relative, without following symlinks.
std::set<std::string> tree(const fs::path& dir) {
  std::set<std::string> paths;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    paths.insert(fs::relative(it->path(), dir).string());
  }
  return paths;
}

// --- Pure rules ----------------------------------------------------------------------------------------

TEST(LayerPaths, LayerIdsAreSha256DiffIdsAndMapToTheirHex) {
  EXPECT_EQ(mcore::overlay::layer_hex(kLayerA), std::string(64, 'a'));
  for (const std::string& bad :
       std::vector<std::string>{"", "sha256:", "sha256:abc", "sha512:" + std::string(64, 'a'),
                                "sha256:" + std::string(64, 'A'), "sha256:" + std::string(63, 'a') + "/",
                                "sha256:../" + std::string(61, 'a'), std::string(64, 'a')}) {
    EXPECT_NE(error_of([&] { mcore::overlay::layer_hex(bad); }), "") << "accepted \"" << bad << "\"";
  }
}

TEST(LayerPaths, EntryNamesBecomeComponentsBelowTheRoot) {
  using V = std::vector<std::string>;
  EXPECT_EQ(mcore::overlay::entry_components("./a//b/"), (V{"a", "b"}));
  EXPECT_EQ(mcore::overlay::entry_components("a/./b"), (V{"a", "b"}));
  EXPECT_EQ(mcore::overlay::entry_components("."), V{});
  EXPECT_EQ(mcore::overlay::entry_components("./"), V{});
  EXPECT_EQ(mcore::overlay::entry_components("..."), V{"..."});
  EXPECT_EQ(mcore::overlay::entry_components("..a/b.."), (V{"..a", "b.."}));
  for (const char* bad : {"../x", "a/../b", "a/..", "..", "/etc/x", "/", "//x"}) {
    EXPECT_NE(error_of([&] { mcore::overlay::entry_components(bad); }), "") << "accepted \"" << bad << "\"";
  }
}

TEST(LayerPaths, WhiteoutNamesAreClassified) {
  using Kind = mcore::overlay::WhiteoutName::Kind;
  EXPECT_EQ(mcore::overlay::classify_whiteout("file").kind, Kind::plain);
  EXPECT_EQ(mcore::overlay::classify_whiteout(".whatever").kind, Kind::plain);
  const auto whiteout = mcore::overlay::classify_whiteout(".wh.gone.txt");
  EXPECT_EQ(whiteout.kind, Kind::whiteout);
  EXPECT_EQ(whiteout.target, "gone.txt");
  EXPECT_EQ(mcore::overlay::classify_whiteout(".wh..wh..opq").kind, Kind::opaque);
  EXPECT_EQ(mcore::overlay::classify_whiteout(".wh..wh.plnk").kind, Kind::internal);
  for (const char* bad : {".wh.", ".wh..", ".wh..."}) {
    EXPECT_NE(error_of([&] { mcore::overlay::classify_whiteout(bad); }), "") << "accepted \"" << bad << "\"";
  }
}

TEST(LayerPaths, OnlyUserXattrsAndFileCapabilitiesAreKept) {
  EXPECT_TRUE(mcore::overlay::keep_xattr("user.mime_type"));
  EXPECT_TRUE(mcore::overlay::keep_xattr("security.capability"));
  for (const char* dropped :
       {"trusted.overlay.opaque", "trusted.overlay.redirect", "trusted.other", "user.overlay.opaque",
        "security.selinux", "security.ima", "system.posix_acl_access", "capability"}) {
    EXPECT_FALSE(mcore::overlay::keep_xattr(dropped)) << dropped;
  }
}

// --- Through the plugin --------------------------------------------------------------------------------

class OverlayLayersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mcore::HostContext context;
    context.config_path = "storage";
    context.data_root = dir_.path() / "data";
    context.state_root = dir_.path() / "state";
    driver_ = mcore::test::load_plugin_driver<mcore::StorageDriver>(kPluginFile.filename().string(), context);
  }
  void TearDown() override { driver_.reset(); }

  fs::path store() const { return dir_.path() / "data" / "storage" / "overlay"; }
  fs::path diff(const std::string& id) const { return store() / "layers" / id.substr(7) / "diff"; }

  mcore::LayerInfo apply(const std::string& id, const std::vector<TarEntry>& entries) {
    StringSource source(make_tar(entries));
    return driver_->apply_layer(id, source);
  }

  // Applies `entries`, expects a refusal naming `entry`, and checks that the temporary tree holds only
  // the store's empty directories afterwards.
  void expect_refused(const std::vector<TarEntry>& entries, const std::string& entry) {
    const std::string error = error_of([&] { apply(kLayerA, entries); });
    EXPECT_NE(error.find("entry \"" + entry + "\""), std::string::npos)
        << "expected a refusal naming entry \"" << entry << "\", got \"" << error << "\"";
    EXPECT_FALSE(driver_->find_layer(kLayerA));
    const std::set<std::string> expected = {"data", "data/storage", "data/storage/overlay",
                                            "data/storage/overlay/layers"};
    EXPECT_EQ(tree(dir_.path()), expected) << "something was left behind for entry \"" << entry << "\"";
  }

  mcore::test::TempDir dir_{"mcore-layers-unit"};
  std::shared_ptr<mcore::StorageDriver> driver_;
};

TEST_F(OverlayLayersTest, RefusesParentDirectoryComponents) {
  expect_refused({tar_file("ok", "fine"), tar_file("../x", "escaped")}, "../x");
  expect_refused({tar_dir("a"), tar_file("a/../../x", "escaped")}, "a/../../x");
}

TEST_F(OverlayLayersTest, RefusesAbsolutePaths) {
  const std::string victim = "/etc/mcore-layer-test-" + std::to_string(::getpid());
  expect_refused({tar_file(victim, "escaped")}, victim);
  EXPECT_FALSE(fs::exists(victim));
}

TEST_F(OverlayLayersTest, RefusesFilesThroughASymlinkToTheRoot) {
  const std::string victim = "tmp/mcore-layer-test-" + std::to_string(::getpid());
  expect_refused({tar_symlink("s", "/"), tar_file("s/" + victim, "escaped")}, "s/" + victim);
  EXPECT_FALSE(fs::exists("/" + victim));
}

TEST_F(OverlayLayersTest, RefusesFilesThroughARelativeSymlinkOutOfTheLayer) {
  expect_refused({tar_symlink("d", "../../.."), tar_file("d/x", "escaped")}, "d/x");
  expect_refused({tar_dir("a"), tar_symlink("a/d", "."), tar_file("a/d/x", "inside, but via a link")},
                 "a/d/x");
}

TEST_F(OverlayLayersTest, RefusesHardlinksOutOfTheLayerOrToMissingTargets) {
  expect_refused({tar_hardlink("p", "/etc/passwd")}, "p");
  fs::create_directories(dir_.path() / "data");
  std::ofstream(dir_.path() / "outside") << "outside";
  const std::string error = error_of([&] { apply(kLayerA, {tar_hardlink("o", "../outside")}); });
  EXPECT_NE(error.find("entry \"o\""), std::string::npos) << error;
  fs::remove(dir_.path() / "outside");
  expect_refused({tar_hardlink("early", "later"), tar_file("later", "x")}, "early");
  expect_refused({tar_symlink("s", "/etc"), tar_hardlink("h", "s/passwd")}, "h");
}

TEST_F(OverlayLayersTest, RefusesARootThatIsNotADirectory) {
  expect_refused({tar_symlink(".", "/")}, ".");
  expect_refused({tar_file(".", "x")}, ".");
}

TEST_F(OverlayLayersTest, CreatesDeviceNodesWhereItMayAndSkipsThemWhereItMayNot) {
  // The path checks stay: a device may not escape either.
  expect_refused({tar_device("../sda", '4', 8, 0)}, "../sda");
  // Issue 14, item 9: every debootstrap-built image has /dev/console; such layers were refused.
  apply(kLayerA, {tar_dir("dev"), tar_device("dev/console", '3', 5, 1), tar_device("dev/sda", '4', 8, 0),
                  tar_file("etc-hostname", "box\n")});
  ASSERT_TRUE(driver_->find_layer(kLayerA));
  struct stat console {}, disk {};
  const bool have_console = ::lstat((diff(kLayerA) / "dev/console").c_str(), &console) == 0;
  const bool have_disk = ::lstat((diff(kLayerA) / "dev/sda").c_str(), &disk) == 0;
  if (mcore::test::running_as_root()) {
    ASSERT_TRUE(have_console && have_disk);
    EXPECT_TRUE(S_ISCHR(console.st_mode));
    EXPECT_EQ(console.st_rdev, ::makedev(5, 1));
    EXPECT_TRUE(S_ISBLK(disk.st_mode));
    EXPECT_EQ(disk.st_rdev, ::makedev(8, 0));
  } else {
    EXPECT_FALSE(have_console || have_disk) << "skipped without CAP_MKNOD";
  }
}

TEST_F(OverlayLayersTest, RefusesPathsThroughFilesAndTruncatedArchives) {
  expect_refused({tar_file("f", "x"), tar_file("f/x", "y")}, "f/x");
  std::string truncated = make_tar({tar_file("big", std::string(5000, 'x'))});
  truncated.resize(2048);
  StringSource source(truncated);
  const std::string error = error_of([&] { driver_->apply_layer(kLayerA, source); });
  EXPECT_NE(error.find("apply layer " + kLayerA), std::string::npos) << error;
  EXPECT_FALSE(driver_->find_layer(kLayerA));
  EXPECT_EQ(tree(store() / "layers"), std::set<std::string>{});
}

TEST_F(OverlayLayersTest, UnpacksFilesDirectoriesLinksModesTimesAndUserXattrs) {
  TarEntry script = tar_file("bin/tool", "#!/bin/sh\n", 04755);
  script.mtime = 1111111111;
  script.xattrs = {{"user.note", "kept"}, {"trusted.overlay.redirect", "/etc"}, {"security.selinux", "x"}};
  TarEntry dir = tar_dir("etc", 0750);
  dir.mtime = 1222222222;
  const TarEntry fifo = mcore::test::tar_entry("run/pipe", '6', 0620);
  const auto info = apply(kLayerA, {tar_dir("./"), dir, tar_file("etc/conf", "a=1\n", 0600), script,
                                    tar_symlink("bin/sh", "/bin/tool"), tar_hardlink("bin/tool2", "bin/tool"),
                                    fifo, tar_file("etc/conf", "a=2\n")});
  const auto found = driver_->find_layer(kLayerA);
  ASSERT_TRUE(found);
  EXPECT_EQ(info.id, kLayerA);
  EXPECT_EQ(info.size_bytes, 4u + 10u + 4u);
  EXPECT_EQ(found->size_bytes, info.size_bytes) << "find_layer reports the size apply_layer measured";
  const fs::path root = diff(kLayerA);
  EXPECT_EQ(read_text(root / "etc/conf"), "a=2\n") << "the later entry wins";
  struct stat st {};
  ASSERT_EQ(::lstat((root / "bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_EQ(st.st_mtime, 1111111111);
  EXPECT_EQ(st.st_nlink, 2u) << "bin/tool2 is a hardlink";
  ASSERT_EQ(::lstat((root / "etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_mtime, 1222222222) << "directory times are set after their content";
  EXPECT_EQ(fs::read_symlink(root / "bin/sh"), "/bin/tool");
  ASSERT_EQ(::lstat((root / "run/pipe").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0620u);
  char value[16] = {};
  EXPECT_EQ(::lgetxattr((root / "bin/tool").c_str(), "user.note", value, sizeof value), 4);
  EXPECT_STREQ(value, "kept");
  EXPECT_LT(::lgetxattr((root / "bin/tool").c_str(), "security.selinux", value, sizeof value), 0);
  if (mcore::test::running_as_root()) {  // only root can read trusted.*, so only root can tell it is gone
    EXPECT_LT(::lgetxattr((root / "bin/tool").c_str(), "trusted.overlay.redirect", value, sizeof value), 0);
  }
  const auto layers = tree(store() / "layers");
  EXPECT_EQ(layers.count(kLayerA.substr(7)), 1u);
  for (const auto& path : layers) EXPECT_EQ(path.find("tmp-"), std::string::npos) << path;
}

TEST_F(OverlayLayersTest, ConvertsWhiteoutsAndOpaqueDirectories) {
  MCORE_REQUIRE_ROOT();
  TarEntry forged = tar_dir("forged");
  forged.xattrs = {{"trusted.overlay.opaque", "y"}};
  apply(kLayerA,
        {tar_dir("etc"), tar_file("etc/.wh.gone", ""), tar_file("opq/.wh..wh..opq", ""),
         tar_file("opq/new", "new"), tar_file(".wh..wh.plnk", ""), forged, tar_device("ready", '3', 0, 0)});
  const fs::path root = diff(kLayerA);
  struct stat st {};
  ASSERT_EQ(::lstat((root / "etc/gone").c_str(), &st), 0) << "no whiteout for etc/gone";
  EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == ::makedev(0, 0));
  EXPECT_FALSE(fs::exists(fs::symlink_status(root / "etc/.wh.gone")));
  ASSERT_EQ(::lstat((root / "ready").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == ::makedev(0, 0)) << "a 0:0 device is a whiteout";
  char value[4] = {};
  EXPECT_EQ(::lgetxattr((root / "opq").c_str(), "trusted.overlay.opaque", value, sizeof value), 1);
  EXPECT_EQ(value[0], 'y');
  EXPECT_FALSE(fs::exists(fs::symlink_status(root / "opq/.wh..wh..opq")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(root / ".wh..wh.plnk")));
  EXPECT_LT(::lgetxattr((root / "forged").c_str(), "trusted.overlay.opaque", value, sizeof value), 0)
      << "an archive must not set overlay xattrs itself";
}

TEST_F(OverlayLayersTest, ReadsTheStreamToItsEndSoTheCallerCanVerifyItsDigest) {
  const std::string tar = make_tar({tar_file("f", "x")}) + std::string(9216, '\0');  // blocking factor 20
  StringSource source(tar);
  driver_->apply_layer(kLayerA, source);
  EXPECT_EQ(source.position(), tar.size());
}

TEST_F(OverlayLayersTest, ConcurrentAppliesOfOneLayerKeepOneCopy) {
  std::vector<TarEntry> entries;
  for (int i = 0; i < 200; ++i) entries.push_back(tar_file("f" + std::to_string(i), std::string(3000, 'x')));
  const std::string tar = make_tar(entries);
  std::string errors[2];
  std::thread threads[2];
  for (int t = 0; t < 2; ++t) {
    threads[t] = std::thread([&, t] {
      StringSource source(tar, 512);
      errors[t] = error_of([&] { driver_->apply_layer(kLayerA, source); });
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  EXPECT_TRUE(driver_->find_layer(kLayerA));
  std::set<std::string> top;
  for (const auto& entry : fs::directory_iterator(store() / "layers")) top.insert(entry.path().filename());
  EXPECT_EQ(top, std::set<std::string>{kLayerA.substr(7)});
  EXPECT_EQ(tree(diff(kLayerA)).size(), 200u);
}

TEST_F(OverlayLayersTest, RemoveIsIdempotentAndLeavesNothing) {
  driver_->remove_layer(kLayerA);  // nothing stored yet
  apply(kLayerA, {tar_dir("d", 0), tar_file("d/f", "x", 0)});
  driver_->remove_layer(kLayerA);
  EXPECT_FALSE(driver_->find_layer(kLayerA));
  EXPECT_EQ(tree(store() / "layers"), std::set<std::string>{});
  EXPECT_EQ(tree(store() / "l"), std::set<std::string>{});
  driver_->remove_layer(kLayerA);
  EXPECT_NE(error_of([&] { driver_->remove_layer("sha256:../../x"); }), "");
}

TEST_F(OverlayLayersTest, ListsCompleteLayersWithTheirSizes) {
  EXPECT_TRUE(driver_->list_layers().empty());
  apply(kLayerA, {tar_file("a", "12345")});
  apply(kLayerB, {tar_file("b", "123"), tar_file("c", "4")});
  const fs::path in_progress = store() / "layers" / "tmp-apply-0123456789abcdef";  // a concurrent apply
  fs::create_directories(in_progress / "diff");
  std::map<std::string, std::uint64_t> listed;
  for (const auto& layer : driver_->list_layers()) listed[layer.id] = layer.size_bytes;
  EXPECT_EQ(listed, (std::map<std::string, std::uint64_t>{{kLayerA, 5}, {kLayerB, 4}}));
  driver_->remove_layer(kLayerA);
  ASSERT_EQ(driver_->list_layers().size(), 1u);
  EXPECT_EQ(driver_->list_layers()[0].id, kLayerB);
  fs::remove_all(in_progress);
}

TEST_F(OverlayLayersTest, RootfsStacksLayersThroughShortLinksTopmostFirst) {
  apply(kLayerA, {tar_file("a", "a")});
  apply(kLayerB, {tar_file("b", "b")});
  const fs::path lower = dir_.path() / "lower";
  fs::create_directories(lower);
  const auto plan = driver_->prepare_rootfs(
      {.container_id = "c1", .layers = {kLayerA, kLayerB}, .external_lowers = {lower}});
  ASSERT_EQ(plan.mounts.size(), 1u);
  // Short links relative to the store root (the mount's working directory); the external lower absolute.
  EXPECT_EQ(plan.mounts[0].working_directory, store());
  const std::string expected = "lowerdir=" + lower.string() + ":l/bbbbbb:l/aaaaaa,";
  EXPECT_EQ(plan.mounts[0].data.substr(0, expected.size()), expected) << plan.mounts[0].data;
  EXPECT_EQ(fs::canonical(store() / "l/aaaaaa"), fs::canonical(diff(kLayerA)));

  const std::string missing = "sha256:" + std::string(64, 'd');
  const std::string error = error_of(
      [&] { driver_->prepare_rootfs({.container_id = "c2", .layers = {missing}, .external_lowers = {}}); });
  EXPECT_NE(error.find("not in the overlay layer store"), std::string::npos) << error;
  driver_->release_rootfs("c1");
}

TEST_F(OverlayLayersTest, ShortLinkNamesGrowWhenPrefixesCollide) {
  const std::string first = "sha256:abcdef" + std::string(58, '1');
  const std::string second = "sha256:abcdef" + std::string(58, '2');
  apply(first, {tar_file("one", "1")});
  apply(second, {tar_file("two", "2")});
  EXPECT_EQ(fs::read_symlink(store() / "l/abcdef"), "../layers/" + first.substr(7) + "/diff");
  EXPECT_EQ(fs::read_symlink(store() / "l/abcdef2"), "../layers/" + second.substr(7) + "/diff");
  driver_->remove_layer(second);
  EXPECT_FALSE(fs::exists(fs::symlink_status(store() / "l/abcdef2")));
  EXPECT_TRUE(fs::exists(fs::symlink_status(store() / "l/abcdef")));
}

}  // namespace
