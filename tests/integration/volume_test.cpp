// Named and anonymous volumes through the mcore binary: the volume verbs, persistence across
// containers, Docker's first-use copy from the image (owners and modes kept, symlinks resolved inside
// the root), removal with rm -v and --rm, refusals while in use, prune.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

class VolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  CommandResult mcore(const std::vector<std::string>& args) { return sandbox_->mcore(args); }

  CommandResult run(const std::vector<std::string>& flags, const std::string& script,
                    const fs::path& rootfs = shared_busybox_rootfs()) {
    std::vector<std::string> args{"run", "--rm"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--rootfs", rootfs.string(), "sh", "-c", script});
    return mcore(args);
  }

  fs::path mountpoint(const std::string& name) {
    auto result = mcore({"volume", "inspect", name});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    auto json = nlohmann::json::parse(result.out, nullptr, false);
    return json.is_array() && !json.empty() ? fs::path(json[0].value("Mountpoint", "")) : fs::path();
  }

  std::string volumes() { return mcore({"volume", "ls", "-q"}).out; }

  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(VolumeTest, CreateListInspectAndDataThatOutlivesItsContainers) {
  auto created = mcore({"volume", "create", "data"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, "data\n");
  EXPECT_EQ(mcore({"volume", "create", "data"}).out, "data\n") << "creating it again is not an error";
  EXPECT_EQ(volumes(), "data\n");
  const fs::path dir = mountpoint("data");
  EXPECT_TRUE(fs::is_directory(dir)) << dir;

  auto wrote = run({"-v", "data:/data"}, "echo kept > /data/file");
  ASSERT_EQ(wrote.exit_code, 0) << wrote.err;
  EXPECT_EQ(read_text(dir / "file"), "kept\n");
  auto read = run({"-v", "data:/data:ro"}, "cat /data/file; echo x > /data/other || echo read-only");
  EXPECT_EQ(read.out, "kept\nread-only\n") << read.err;
  // -v with a name creates the volume as Docker does.
  EXPECT_EQ(run({"-v", "made:/m"}, "true").exit_code, 0);
  EXPECT_EQ(volumes(), "data\nmade\n");
}

TEST_F(VolumeTest, ANewVolumeIsFilledFromTheImageOnceWithOwnersAndModes) {
  TempDir rootfs_dir("mcore-volume-rootfs");
  const fs::path rootfs = rootfs_dir.path();
  fs::copy(shared_busybox_rootfs(), rootfs, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  fs::create_directories(rootfs / "seed/sub");
  { std::ofstream(rootfs / "seed/owned") << "from the image\n"; }
  { std::ofstream(rootfs / "seed/sub/deep") << "deep\n"; }
  ASSERT_EQ(::chown((rootfs / "seed/owned").c_str(), 1234, 1234), 0);
  ASSERT_EQ(::chmod((rootfs / "seed/owned").c_str(), 0640), 0);
  fs::create_symlink("owned", rootfs / "seed/link");

  auto first = run({"-v", "seeded:/seed"}, "stat -c '%u %g %a' /seed/owned; cat /seed/sub/deep; readlink /seed/link",
                   rootfs);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "1234 1234 640\ndeep\nowned\n");
  // Only the first time: what the containers changed stays.
  EXPECT_EQ(run({"-v", "seeded:/seed"}, "rm /seed/owned", rootfs).exit_code, 0);
  auto again = run({"-v", "seeded:/seed"}, "ls /seed", rootfs);
  EXPECT_EQ(again.out, "link\nsub\n") << "the image's file came back";
  // A volume that already holds data is never overwritten.
  ASSERT_EQ(mcore({"volume", "create", "full"}).exit_code, 0);
  { std::ofstream(mountpoint("full") / "mine") << "mine\n"; }
  auto full = run({"-v", "full:/seed"}, "ls /seed", rootfs);
  EXPECT_EQ(full.out, "mine\n");
}

TEST_F(VolumeTest, TheFirstUseCopyResolvesSymlinksInsideTheRoot) {
  // The image's /seed points at an absolute path that exists on the host but not in the image.
  TempDir secret("mcore-volume-secret");
  { std::ofstream(secret.path() / "secret") << "host secret\n"; }
  TempDir rootfs_dir("mcore-volume-rootfs");
  fs::copy(shared_busybox_rootfs(), rootfs_dir.path(), fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  fs::create_symlink(secret.path(), rootfs_dir.path() / "seed");
  auto linked = run({"-v", "linked:/seed"}, "ls -A /seed", rootfs_dir.path());
  EXPECT_EQ(linked.exit_code, 0) << linked.err;
  EXPECT_FALSE(fs::exists(mountpoint("linked") / "secret")) << "the host's directory was copied";
  EXPECT_EQ(linked.out.find("secret"), std::string::npos) << linked.out;
}

TEST_F(VolumeTest, AnonymousVolumesGoWithRmDashVAndWithRm) {
  auto started = mcore({"run", "-d", "-v", "/scratch", "--rootfs", shared_busybox_rootfs().string(), "sleep", "30"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  const std::string id = trimmed(started.out);
  auto inspect = nlohmann::json::parse(mcore({"inspect", id}).out);
  const auto mount = inspect[0]["Mounts"][0];
  EXPECT_EQ(mount.value("Type", ""), "volume") << mount.dump();
  const std::string name = mount.value("Name", "");
  EXPECT_EQ(name.size(), 64u) << mount.dump();
  EXPECT_EQ(volumes(), name + "\n");
  EXPECT_EQ(mcore({"rm", "-f", "-v", id}).exit_code, 0);
  EXPECT_EQ(volumes(), "") << "rm -v kept the anonymous volume";

  // Without -v it stays (until prune); --rm takes it with the container, as in Docker.
  auto kept = mcore({"run", "-v", "/scratch", "-v", "named:/n", "--rootfs", shared_busybox_rootfs().string(), "true"});
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_EQ(mcore({"rm", "--all"}).exit_code, 0);
  const std::string left = volumes();
  EXPECT_EQ(std::count(left.begin(), left.end(), '\n'), 2) << left;
  auto pruned = mcore({"volume", "prune", "-f"});
  EXPECT_NE(pruned.out.find("Deleted Volumes:"), std::string::npos) << pruned.out;
  EXPECT_EQ(volumes(), "named\n") << "prune without -a removes anonymous volumes only";
  EXPECT_EQ(run({"-v", "/scratch"}, "true").exit_code, 0);
  EXPECT_EQ(volumes(), "named\n") << "--rm kept the anonymous volume";
  EXPECT_EQ(mcore({"volume", "prune", "-f", "-a"}).exit_code, 0);
  EXPECT_EQ(volumes(), "");
}

TEST_F(VolumeTest, AVolumeInUseIsNotRemovedAndBadNamesAreRefused) {
  // A stopped container still names its volume.
  auto created = mcore({"run", "--name", "user", "-v", "busy:/b", "--rootfs", shared_busybox_rootfs().string(), "true"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto refused = mcore({"volume", "rm", "busy"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("volume busy is in use by container(s) user"), std::string::npos) << refused.err;
  EXPECT_EQ(mcore({"volume", "prune", "-a", "-f"}).exit_code, 0);
  EXPECT_EQ(volumes(), "busy\n") << "prune removed a volume a container names";
  EXPECT_EQ(mcore({"rm", "user"}).exit_code, 0);
  EXPECT_EQ(volumes(), "busy\n") << "rm without -v removed a named volume";
  auto removed = mcore({"volume", "rm", "busy"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(volumes(), "");

  auto missing = mcore({"volume", "rm", "nowhere"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no such volume: nowhere"), std::string::npos) << missing.err;
  auto bad = run({"-v", "a:/x"}, "true");
  EXPECT_EQ(bad.exit_code, 125);
  EXPECT_NE(bad.err.find("invalid volume name \"a\""), std::string::npos) << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  EXPECT_EQ(volumes(), "");
}

}  // namespace
}  // namespace mcore::test
