// The overlay storage driver against the real kernel: the mount it describes, performed as described in
// a child's private mount namespace, gives copy-on-write over the lower directories. The mount dies with
// the child, so nothing stays mounted whatever happens.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mcore/error.hpp"
#include "mcore/storage_driver.hpp"
#include "plugin_driver.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using mcore::test::read_text;

namespace {

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

// Every regular file below `dir` with its bytes, to prove a lower directory did not change.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files[fs::relative(entry.path(), dir).string()] = read_text(entry.path());
  }
  return files;
}

bool mountinfo_mentions(const fs::path& path) {
  return read_text("/proc/self/mountinfo").find(path.string()) != std::string::npos;
}

// The steps a child runs; a failing child exits with the step's index + 1.
enum ChildStep : int {
  kUnshare = 1,
  kMakePrivate,
  kMount,
  kReadShadowed,
  kReadUntouched,
  kCreate,
  kModify,
  kDelete,
  kDeletedIsGone,
  kRelease,
  kStepCount
};
constexpr const char* kStepNames[kStepCount] = {
    "",
    "unshare(CLONE_NEWNS)",
    "make / private",
    "mount the plan",
    "merged shows the topmost lower's shadow.txt",
    "merged shows the lower's keep.txt",
    "create new.txt in merged",
    "append to modify.txt in merged",
    "delete delete.txt in merged",
    "delete.txt is gone from merged",
    "release_rootfs refuses while merged is mounted",
};

bool file_is(const char* path, const char* expected) {
  char buffer[256] = {};
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
  ::close(fd);
  return n >= 0 && std::strcmp(buffer, expected) == 0;
}

bool write_file(const char* path, const char* text, int flags) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC | flags, 0644);
  if (fd < 0) return false;
  const auto length = static_cast<ssize_t>(std::strlen(text));
  const bool ok = ::write(fd, text, length) == length;
  return ::close(fd) == 0 && ok;
}

// Performs the plan's mounts exactly as described, in a new private mount namespace.
int mount_plan_in_new_namespace(const mcore::RootfsPlan& plan) {
  if (::unshare(CLONE_NEWNS) != 0) return kUnshare;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return kMakePrivate;
  for (const auto& m : plan.mounts) {
    // Like the engine: the options may hold paths relative to the mount's working directory.
    if (!m.working_directory.empty() && ::chdir(m.working_directory.c_str()) != 0) {
      std::fprintf(stderr, "chdir %s: %s\n", m.working_directory.c_str(), std::strerror(errno));
      return kMount;
    }
    if (::mount(m.source.c_str(), m.target.c_str(), m.fstype.empty() ? nullptr : m.fstype.c_str(), m.flags,
                m.data.c_str()) != 0) {
      std::fprintf(stderr, "mount %s: %s\n", m.data.c_str(), std::strerror(errno));
      return kMount;
    }
  }
  return 0;
}

// Forks; the child runs `body` and _exits with its result. Returns the child's exit status.
template <class Body>
int run_in_child(Body body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (...) {
    }
    ::_exit(code);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string describe(int code) {
  if (code == 0) return "succeeded";
  if (code > 0 && code < kStepCount) return std::string("failed: ") + kStepNames[code];
  return "exit status " + std::to_string(code);
}

class OverlayStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    mcore::HostContext context;
    context.config_path = "storage";
    context.data_root = dir_.path() / "data";
    context.state_root = dir_.path() / "state";
    driver_ = mcore::test::load_plugin_driver<mcore::StorageDriver>("mcore-storage-overlay.so", context);

    // bottom/ holds the image, top/ shadows one of its files.
    bottom_ = dir_.path() / "bottom";
    top_ = dir_.path() / "top";
    fs::create_directories(bottom_ / "sub");
    fs::create_directories(top_);
    write_text(bottom_ / "keep.txt", "lower keep");
    write_text(bottom_ / "modify.txt", "original");
    write_text(bottom_ / "delete.txt", "doomed");
    write_text(bottom_ / "shadow.txt", "bottom");
    write_text(bottom_ / "sub" / "nested.txt", "nested");
    write_text(top_ / "shadow.txt", "top");
  }

  void TearDown() override {
    driver_.reset();
  }

  mcore::RootfsRequest request() const {
    return {.container_id = "c1", .layers = {}, .external_lowers = {bottom_, top_}};
  }

  mcore::test::TempDir dir_{"mcore-overlay-it"};
  std::shared_ptr<mcore::StorageDriver> driver_;
  fs::path bottom_;
  fs::path top_;
};

TEST_F(OverlayStorageTest, WritesInTheRootfsLandInTheUpperDirectoryOnly) {
  const auto lower_before = snapshot(bottom_);
  const auto top_before = snapshot(top_);
  const auto plan = driver_->prepare_rootfs(request());
  const std::string merged = plan.rootfs.string();

  const int code = run_in_child([&] {
    if (const int failed = mount_plan_in_new_namespace(plan)) return failed;
    if (!file_is((merged + "/shadow.txt").c_str(), "top")) return int(kReadShadowed);
    if (!file_is((merged + "/keep.txt").c_str(), "lower keep")) return int(kReadUntouched);
    if (!write_file((merged + "/new.txt").c_str(), "new file", O_CREAT | O_EXCL)) return int(kCreate);
    if (!write_file((merged + "/modify.txt").c_str(), " changed", O_APPEND)) return int(kModify);
    if (::unlink((merged + "/delete.txt").c_str()) != 0) return int(kDelete);
    struct stat st {};
    if (::lstat((merged + "/delete.txt").c_str(), &st) == 0 || errno != ENOENT) return int(kDeletedIsGone);
    return 0;
  });
  ASSERT_EQ(code, 0) << "child " << describe(code);

  // The writes reached the upper directory...
  EXPECT_EQ(read_text(plan.upper_dir / "new.txt"), "new file");
  EXPECT_EQ(read_text(plan.upper_dir / "modify.txt"), "original changed");
  struct stat whiteout {};
  ASSERT_EQ(::lstat((plan.upper_dir / "delete.txt").c_str(), &whiteout), 0) << "expected a whiteout in upper";
  EXPECT_TRUE(S_ISCHR(whiteout.st_mode)) << "a whiteout is a character device, mode was " << std::oct
                                         << whiteout.st_mode;
  EXPECT_EQ(whiteout.st_rdev, makedev(0, 0)) << "a whiteout is device 0:0";
  EXPECT_FALSE(fs::exists(plan.upper_dir / "keep.txt")) << "an untouched file is not copied up";
  // ...and never the lower ones.
  EXPECT_EQ(snapshot(bottom_), lower_before);
  EXPECT_EQ(snapshot(top_), top_before);
  EXPECT_EQ(read_text(bottom_ / "delete.txt"), "doomed");

  // The mount lived in the child's namespace only.
  EXPECT_TRUE(fs::is_empty(plan.rootfs)) << "merged shows content outside the child's namespace";
  EXPECT_FALSE(mountinfo_mentions(dir_.path()));

  driver_->release_rootfs("c1");
  EXPECT_FALSE(fs::exists(plan.rootfs.parent_path())) << "release left the container directory behind";
  EXPECT_TRUE(driver_->list_rootfs().empty());
  EXPECT_EQ(snapshot(bottom_), lower_before);
}

TEST_F(OverlayStorageTest, ReleaseRefusesWhileTheRootfsIsMounted) {
  const auto plan = driver_->prepare_rootfs(request());
  write_text(plan.upper_dir / "sentinel", "still here");

  const int code = run_in_child([&] {
    if (const int failed = mount_plan_in_new_namespace(plan)) return failed;
    try {
      driver_->release_rootfs("c1");
    } catch (const mcore::Error& error) {
      if (std::string(error.what()).find("mount point") != std::string::npos) return 0;
      std::fprintf(stderr, "unexpected error: %s\n", error.what());
    }
    return int(kRelease);
  });
  ASSERT_EQ(code, 0) << "child " << describe(code);

  EXPECT_EQ(read_text(plan.upper_dir / "sentinel"), "still here") << "the refused release deleted something";
  EXPECT_FALSE(mountinfo_mentions(dir_.path()));
  driver_->release_rootfs("c1");
  EXPECT_FALSE(fs::exists(plan.rootfs.parent_path()));
}

}  // namespace
