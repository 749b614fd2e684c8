// The overlay driver's write_diff on an upper directory made by hand as overlay makes it (root: whiteout
// devices, trusted.* attributes): the tar's entries and names, what it leaves out, its determinism, and
// the round trip through apply_layer.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "engine/image/digest.hpp"
#include "engine/io/fd_stream.hpp"
#include "engine/image/tar_archive.hpp"
#include "mcore/error.hpp"
#include "overlay_plugin.hpp"
#include "tar_writer.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Entry path -> "type[ link]" of every entry in `tar`, through the engine's own reader.
std::map<std::string, std::string> entries_of(const std::string& tar) {
  StringSource source(tar);
  engine::TarReader reader(source, "the diff");
  std::map<std::string, std::string> entries;
  while (auto entry = reader.next()) {
    using Type = engine::TarEntry::Type;
    std::string text = entry->type == Type::file        ? "file"
                       : entry->type == Type::directory ? "dir"
                       : entry->type == Type::symlink   ? "symlink " + entry->link
                       : entry->type == Type::hardlink  ? "hardlink " + entry->link
                                                        : "other";
    std::string path = entry->path;
    if (path.ends_with('/')) path.pop_back();
    entries[path] = text;
  }
  return entries;
}

std::string xattr_of(const fs::path& path, const char* name) {
  char value[256];
  const ssize_t size = ::lgetxattr(path.c_str(), name, value, sizeof value);
  return size < 0 ? "<none>" : std::string(value, static_cast<std::size_t>(size));
}

class OverlayDiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    plugin_ = std::make_unique<OverlayPlugin>(dir_.path());
    StringSource base(
        make_tar({tar_dir("etc"), tar_file("etc/gone", "x"), tar_dir("opq"), tar_file("opq/old", "x")}));
    driver().apply_layer(kBase, base);
    upper_ =
        driver().prepare_rootfs({.container_id = "c1", .layers = {kBase}, .external_lowers = {}}).upper_dir;
  }
  void TearDown() override {
    if (plugin_) driver().release_rootfs("c1");
  }

  StorageDriver& driver() { return plugin_->driver(); }

  // The diff of container `id`, through a file as mcore's own sinks write one.
  std::string diff(const std::string& id = "c1") {
    const fs::path file = dir_.path() / "diff.tar";
    engine::AtomicFileSink sink(file);
    driver().write_diff(id, sink);
    sink.commit();
    return read_text(file);
  }

  const std::string kBase = "sha256:" + std::string(64, 'b');
  TempDir dir_{"mcore-diff"};
  std::unique_ptr<OverlayPlugin> plugin_;
  fs::path upper_;
};

TEST_F(OverlayDiffTest, AnUntouchedContainerHasTheEmptyLayer) { EXPECT_EQ(diff(), std::string(1024, '\0')); }

TEST_F(OverlayDiffTest, OverlayMarkersBecomeWhiteoutEntriesAndTheRestIsKeptOrLeftOut) {
  fs::create_directories(upper_ / "etc");
  ASSERT_EQ(::mknod((upper_ / "etc/gone").c_str(), S_IFCHR | 0600, ::makedev(0, 0)), 0);
  fs::create_directories(upper_ / "opq");
  ASSERT_EQ(::setxattr((upper_ / "opq").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  write_text(upper_ / "opq/new", "new\n");
  write_text(upper_ / "file", "content\n");
  ASSERT_EQ(::setxattr((upper_ / "file").c_str(), "user.note", "kept", 4, 0), 0);
  ASSERT_EQ(::setxattr((upper_ / "file").c_str(), "trusted.overlay.origin", "x", 1, 0), 0);
  ASSERT_EQ(::link((upper_ / "file").c_str(), (upper_ / "file-link").c_str()), 0);
  fs::create_symlink("file", upper_ / "symlink");
  write_text(upper_ / "caf\xe9", "latin-1 name\n");  // not UTF-8: stored as its bytes
  ASSERT_EQ(::mkfifo((upper_ / "fifo").c_str(), 0644), 0);
  ASSERT_EQ(::mknod((upper_ / "null").c_str(), S_IFCHR | 0666, ::makedev(1, 3)), 0);
  const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, (upper_ / "socket").c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ::close(sock);

  const std::string tar = diff();
  EXPECT_EQ(entries_of(tar), (std::map<std::string, std::string>{
                                 {"caf\xe9", "file"},
                                 {"etc", "dir"},
                                 {"etc/.wh.gone", "file"},
                                 {"fifo", "other"},
                                 {"file", "file"},
                                 {"file-link", "hardlink file"},
                                 {"opq", "dir"},
                                 {"opq/.wh..wh..opq", "file"},
                                 {"opq/new", "file"},
                                 {"symlink", "symlink file"},
                             }))
      << "device nodes and sockets are left out";
  EXPECT_EQ(diff(), tar) << "the same upper directory gives the same bytes";

  // Applied as a layer, the diff means what the upper directory meant.
  const std::string diff_id = engine::sha256_digest(tar);
  StringSource source(tar);
  driver().apply_layer(diff_id, source);
  const fs::path layer = dir_.path() / "data/storage/overlay/layers" / diff_id.substr(7) / "diff";
  struct stat st {};
  ASSERT_EQ(::lstat((layer / "etc/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == 0) << "a whiteout device again";
  EXPECT_EQ(xattr_of(layer / "opq", "trusted.overlay.opaque"), "y");
  EXPECT_EQ(xattr_of(layer / "file", "user.note"), "kept");
  EXPECT_EQ(xattr_of(layer / "file", "trusted.overlay.origin"), "<none>");
  ASSERT_EQ(::lstat((layer / "file-link").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_EQ(read_text(layer / "opq/new"), "new\n");
  EXPECT_EQ(read_text(layer / "caf\xe9"), "latin-1 name\n");
  EXPECT_EQ(fs::read_symlink(layer / "symlink"), "file");
  driver().remove_layer(diff_id);
}

TEST_F(OverlayDiffTest, ContentKeptInLowerLayersIsRefused) {
  fs::create_directories(upper_ / "moved");
  ASSERT_EQ(::setxattr((upper_ / "moved").c_str(), "trusted.overlay.redirect", "/opq", 4, 0), 0);
  EXPECT_NE(error_of([&] { diff(); }).find("redirect_dir"), std::string::npos);
  fs::remove(upper_ / "moved");

  write_text(upper_ / "meta", "");
  ASSERT_EQ(::setxattr((upper_ / "meta").c_str(), "trusted.overlay.metacopy", "", 0, 0), 0);
  EXPECT_NE(error_of([&] { diff(); }).find("metacopy"), std::string::npos);
}

TEST_F(OverlayDiffTest, AContainerWithoutStorageIsAnError) {
  const std::string error = error_of([&] { diff("c2"); });
  EXPECT_NE(error.find("has no writable layer"), std::string::npos) << error;
}

}  // namespace
}  // namespace mcore::test
