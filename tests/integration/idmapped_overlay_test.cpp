// The root of a container in a user namespace (engine/start/idmapped_overlay): an overlay assembled
// detached by host root over idmapped clones of the layers. Attached in a mount namespace of its own and
// seen from the user namespace, the image's files belong to the namespace's ids; what the container
// writes lands on disk as the mapped ids; a removed lower file leaves a whiteout; the layers themselves
// and the host's mount table are untouched.
#include "engine/start/idmapped_overlay.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kHostRoot = 100000;  // the namespace's root on the host

// A user namespace whose ids 0-65535 are the host's 100000-165535. A child makes it and dies; the
// namespace lives on through our descriptor.
class MappedUserNamespace {
 public:
  MappedUserNamespace() {
    int made[2];
    int done[2];
    if (::pipe2(made, O_CLOEXEC) != 0 || ::pipe2(done, O_CLOEXEC) != 0) throw Error::from_errno("pipe");
    const pid_t child = ::fork();
    if (child == 0) {
      ::close(done[1]);  // else the read below never sees end of file
      char byte = ::unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
      (void)!::write(made[1], &byte, 1);
      (void)!::read(done[0], &byte, 1);
      ::_exit(0);
    }
    ::close(made[1]);
    ::close(done[0]);
    char byte = 0;
    const bool unshared = ::read(made[0], &byte, 1) == 1 && byte == 'y';
    ::close(made[0]);
    const std::string proc = "/proc/" + std::to_string(child);
    if (unshared) {
      std::ofstream(proc + "/uid_map") << "0 " << kHostRoot << " 65536\n";
      std::ofstream(proc + "/gid_map") << "0 " << kHostRoot << " 65536\n";
      fd_.reset(::open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
    }
    ::close(done[1]);
    ::waitpid(child, nullptr, 0);
    if (!fd_) throw Error("could not make a mapped user namespace");
  }
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
};

class IdmappedOverlayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    // The namespace's root is an ordinary user on the host: it must be able to reach the mount point.
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::create_directories(dir_.path() / "lower" / "d");
    fs::create_directories(dir_.path() / "top");
    std::ofstream(dir_.path() / "lower" / "a") << "from the image\n";
    std::ofstream(dir_.path() / "lower" / "d" / "gone") << "removed by the container\n";
    std::ofstream(dir_.path() / "top" / "b") << "a user's file\n";
    std::ofstream(dir_.path() / "lower" / "shadowed") << "lower\n";
    std::ofstream(dir_.path() / "top" / "shadowed") << "top\n";
    ASSERT_EQ(::chown((dir_.path() / "top" / "b").c_str(), 1000, 1000), 0);
    for (const char* dir : {"upper", "work", "root"}) fs::create_directories(dir_.path() / dir);
    for (const char* dir : {"upper", "work"})
      ASSERT_EQ(::chown((dir_.path() / dir).c_str(), kHostRoot, kHostRoot), 0);
    spec_.source = "overlay";
    spec_.fstype = "overlay";
    spec_.target = dir_.path() / "root";
    spec_.data = "lowerdir=top:lower,upperdir=upper,workdir=work";
    spec_.working_directory = dir_.path();
  }

  // Attaches `mounted` in a new mount namespace, joins the user namespace as its root, and runs the
  // script of looks and writes there; returns what it reported.
  std::string inside(int mounted, int userns) const {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) throw Error::from_errno("pipe");
    const pid_t child = ::fork();
    if (child == 0) {
      const std::string root = spec_.target.string();
      std::string out;
      const auto owner = [&](const char* name) {
        struct stat status {};
        if (::stat((root + name).c_str(), &status) != 0) return std::string(name) + " missing\n";
        return std::string(name) + " " + std::to_string(status.st_uid) + ":" + std::to_string(status.st_gid) +
               "\n";
      };
      if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          ::syscall(SYS_move_mount, mounted, "", AT_FDCWD, root.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
        out = "attach failed\n";
      } else if (::setns(userns, CLONE_NEWUSER) != 0 || ::setresgid(0, 0, 0) != 0 ||
                 ::setresuid(0, 0, 0) != 0) {
        out = "join failed\n";
      } else {
        out += owner("/a") + owner("/b") + owner("/d");
        char text[16] = {};
        const int shadowed = ::open((root + "/shadowed").c_str(), O_RDONLY | O_CLOEXEC);
        if (shadowed >= 0 && ::read(shadowed, text, sizeof text - 1) > 0) out += text;  // the topmost layer's
        if (shadowed >= 0) ::close(shadowed);
        const int created = ::open((root + "/new").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        out += created >= 0 ? "created\n" : "create failed\n";
        if (created >= 0) ::close(created);
        out += ::unlink((root + "/d/gone").c_str()) == 0 ? "unlinked\n" : "unlink failed\n";
        out += owner("/d/gone");
      }
      (void)!::write(report[1], out.data(), out.size());
      ::_exit(0);
    }
    ::close(report[1]);
    std::string out;
    char buffer[512];
    for (ssize_t n; (n = ::read(report[0], buffer, sizeof buffer)) > 0;)
      out.append(buffer, static_cast<std::size_t>(n));
    ::close(report[0]);
    ::waitpid(child, nullptr, 0);
    return out;
  }

  test::TempDir dir_{"mcore-idmap-test"};
  MountSpec spec_;
};

TEST_F(IdmappedOverlayTest, TheImageBelongsToTheNamespaceAndWritesLandAsItsIds) {
  const MappedUserNamespace userns;
  const UniqueFd mounted = detached_idmapped_overlay(spec_, userns.fd());
  ASSERT_TRUE(mounted);
  EXPECT_EQ(inside(mounted.get(), userns.fd()),
            "/a 0:0\n/b 1000:1000\n/d 0:0\ntop\ncreated\nunlinked\n/d/gone missing\n");

  struct stat status {};
  ASSERT_EQ(::stat((dir_.path() / "upper" / "new").c_str(), &status), 0);
  EXPECT_EQ(status.st_uid, kHostRoot) << "a file the container made is the mapped root's on disk";
  EXPECT_EQ(status.st_gid, kHostRoot);
  ASSERT_EQ(::lstat((dir_.path() / "upper" / "d" / "gone").c_str(), &status), 0) << "no whiteout";
  EXPECT_TRUE(S_ISCHR(status.st_mode) && status.st_rdev == makedev(0, 0)) << "not a whiteout";
  ASSERT_EQ(::stat((dir_.path() / "lower" / "d" / "gone").c_str(), &status), 0) << "the layer lost a file";
  ASSERT_EQ(::stat((dir_.path() / "lower" / "a").c_str(), &status), 0);
  EXPECT_EQ(status.st_uid, 0u) << "the layer was chowned";
  EXPECT_EQ(test::read_text("/proc/self/mountinfo").find(spec_.target.string()), std::string::npos)
      << "the overlay reached the host's mount table";
}

TEST_F(IdmappedOverlayTest, AMissingLayerOrBadOptionsAreNamed) {
  const MappedUserNamespace userns;
  spec_.data = "lowerdir=top:missing,upperdir=upper,workdir=work";
  EXPECT_NE(test::error_of([&] {
              detached_idmapped_overlay(spec_, userns.fd());
            }).find("open layer " + (dir_.path() / "missing").string()),
            std::string::npos);
  spec_.data = "upperdir=upper,workdir=work";
  EXPECT_NE(test::error_of([&] { detached_idmapped_overlay(spec_, userns.fd()); }).find("lacks lowerdir"),
            std::string::npos);
  spec_.data = "lowerdir=top:lower,upperdir=upper,workdir=work,no_such_option";
  EXPECT_NE(test::error_of([&] {
              detached_idmapped_overlay(spec_, userns.fd());
            }).find("set overlay option no_such_option"),
            std::string::npos);
}

}  // namespace
}  // namespace mcore::engine
