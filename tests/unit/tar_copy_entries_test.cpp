// TarWriter::copy_entries: a tar passed through whole, with only its owners changed. It is how a mapped
// container's changes are committed with the ids it saw (container_commit), so every piece of an entry
// but its owner must survive: type, mode, time, link target, extended attributes, data.
#include <archive.h>
#include <archive_entry.h>

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "engine/image/tar_archive.hpp"
#include "engine/userns/id_map.hpp"
#include "mcore/error.hpp"
#include "tar_writer.hpp"

namespace mcore::engine {
namespace {

class StringSink final : public ByteSink {
 public:
  void write(std::span<const std::byte> bytes) override {
    text.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  std::string text;
};

struct Seen {
  unsigned type = 0;
  unsigned mode = 0;
  long long uid = -1;
  long long gid = -1;
  long long mtime = 0;
  std::string uname;
  std::string link;
  std::string data;
  std::string xattr;
};

// Reads `tar` with libarchive itself, so the check does not lean on the code under test.
std::map<std::string, Seen> entries_of(const std::string& tar) {
  std::map<std::string, Seen> seen;
  archive* reader = archive_read_new();
  archive_read_support_format_tar(reader);
  EXPECT_EQ(archive_read_open_memory(reader, tar.data(), tar.size()), ARCHIVE_OK);
  archive_entry* entry = nullptr;
  while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
    Seen& item = seen[archive_entry_pathname(entry)];
    item.type = archive_entry_filetype(entry);
    item.mode = archive_entry_perm(entry);
    item.uid = archive_entry_uid(entry);
    item.gid = archive_entry_gid(entry);
    item.mtime = archive_entry_mtime(entry);
    item.uname = archive_entry_uname(entry) ? archive_entry_uname(entry) : "";
    item.link = archive_entry_symlink(entry) ? archive_entry_symlink(entry) : "";
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    archive_entry_xattr_reset(entry);
    while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
      item.xattr += std::string(name) + "=" + std::string(static_cast<const char*>(value), size);
    }
    char buffer[256];
    la_ssize_t n;
    while ((n = archive_read_data(reader, buffer, sizeof buffer)) > 0)
      item.data.append(buffer, static_cast<std::size_t>(n));
  }
  archive_read_free(reader);
  return seen;
}

TEST(TarCopyEntries, OwnersAreMappedAndEverythingElseKept) {
  test::TarEntry dir = test::tar_entry("d/", '5', 0750);
  dir.uid = 100000;
  dir.gid = 200000;
  test::TarEntry file = test::tar_file("d/f", "payload", 0640);
  file.uid = 101000;
  file.gid = 200005;
  file.mtime = 1600000000;
  file.xattrs = {{"user.note", "kept"}};
  test::TarEntry link = test::tar_entry("l", '2', 0777);
  link.link = "d/f";
  link.uid = 100000;
  test::TarEntry stranger = test::tar_file("outside", "x");
  stranger.uid = 5;  // not in the map: shown as nobody inside, committed as nobody
  test::StringSource input(test::make_tar({dir, file, link, stranger}), 700);

  const IdMap uids{{0, 100000, 65536}};
  const IdMap gids{{0, 200000, 65536}};
  StringSink output;
  TarReader reader(input, "the test archive");
  TarWriter writer(output);
  writer.copy_entries(reader, [&](std::uint32_t id, bool group) {
    return container_id_of(group ? gids : uids, id).value_or(65534);
  });
  writer.finish();

  const auto seen = entries_of(output.text);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen.at("d/").uid, 0);
  EXPECT_EQ(seen.at("d/").gid, 0);
  EXPECT_EQ(seen.at("d/").mode, 0750u);
  EXPECT_EQ(seen.at("d/").type, static_cast<unsigned>(AE_IFDIR));
  const Seen& copied = seen.at("d/f");
  EXPECT_EQ(copied.uid, 1000);
  EXPECT_EQ(copied.gid, 5);
  EXPECT_EQ(copied.mode, 0640u);
  EXPECT_EQ(copied.mtime, 1600000000);
  EXPECT_EQ(copied.data, "payload");
  EXPECT_EQ(copied.xattr, "user.note=kept");
  EXPECT_EQ(copied.uname, "") << "names would not match the numbers";
  EXPECT_EQ(seen.at("l").link, "d/f");
  EXPECT_EQ(seen.at("l").type, static_cast<unsigned>(AE_IFLNK));
  EXPECT_EQ(seen.at("outside").uid, 65534);
}

TEST(TarCopyEntries, ADamagedInputIsAnError) {
  std::string tar = test::make_tar({test::tar_file("f", std::string(5000, 'a'))});
  tar.resize(1500);  // the file's data cut short
  test::StringSource input(tar);
  StringSink output;
  TarReader reader(input, "the test archive");
  TarWriter writer(output);
  EXPECT_THROW(writer.copy_entries(reader, [](std::uint32_t id, bool) { return id; }), Error);
}

}  // namespace
}  // namespace mcore::engine
