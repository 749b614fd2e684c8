#include "engine/util/file_util.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

namespace fs = std::filesystem;
using testing::IsSubstring;
using test::error_of;

TEST(FileUtil, ReadsWholeFilesIncludingProcFiles) {
  test::TempDir dir;
  const std::string big(100000, 'x');
  write_file_atomic(dir.path() / "big", big);
  EXPECT_EQ(read_file(dir.path() / "big"), big);
  // /proc files report size 0 and must be read to the end anyway.
  EXPECT_PRED_FORMAT2(IsSubstring, "Name:", read_file("/proc/self/status"));
}

TEST(FileUtil, ReadErrorsNameThePath) {
  EXPECT_EQ(error_of([] { read_file("/nonexistent/file"); }),
            "open /nonexistent/file: No such file or directory");
}

TEST(FileUtil, ReadFileIfExistsTellsAMissingFileFromAnUnreadableOne) {
  test::TempDir dir;
  EXPECT_EQ(read_file_if_exists(dir.path() / "missing"), std::nullopt);
  write_file_atomic(dir.path() / "present", "text");
  EXPECT_EQ(read_file_if_exists(dir.path() / "present"), "text");
  EXPECT_NE(error_of([&] { read_file_if_exists(dir.path() / "present" / "below"); }).find("present/below"),
            std::string::npos);
}

TEST(FileUtil, ReadToEndReadsAPipeUntilItsWriterCloses) {
  int ends[2];
  ASSERT_EQ(::pipe(ends), 0);
  UniqueFd reader(ends[0]);
  std::thread writer([fd = ends[1]] {
    for (int i = 0; i < 100; ++i) write_all(fd, std::string(1000, 'x'));
    ::close(fd);
  });
  EXPECT_EQ(read_to_end(reader.get(), "the pipe"), std::string(100000, 'x'));
  writer.join();
}

TEST(FileUtil, AtomicWriteReplacesTheFileAndLeavesNothingElse) {
  test::TempDir dir;
  const auto file = dir.path() / "state.json";
  write_file_atomic(file, "old");
  write_file_atomic(file, "new", {.mode = 0600});
  EXPECT_EQ(read_file(file), "new");
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1)
      << "no temporary file is left behind";
}

TEST(FileUtil, AKilledAtomicWritersTemporaryFileIsKnownByItsName) {
  test::TempDir dir;
  std::string temp = atomic_write_temp_template(dir.path() / "index.json");
  UniqueFd fd(::mkstemp(temp.data()));  // what a writer killed before its rename leaves
  ASSERT_TRUE(fd);
  EXPECT_TRUE(is_atomic_write_leftover(std::filesystem::path(temp).filename().string())) << temp;
  EXPECT_FALSE(is_atomic_write_leftover("index.json"));
  EXPECT_FALSE(is_atomic_write_leftover(".index.json"));
  EXPECT_FALSE(is_atomic_write_leftover(".tmp-abcdef"));
  EXPECT_FALSE(is_atomic_write_leftover(".index.json.tmp-abc"));
}

TEST(FileUtil, AtomicWriteErrorsNameThePath) {
  EXPECT_PRED_FORMAT2(IsSubstring, "write /nonexistent/dir/state.json",
                      error_of([] { write_file_atomic("/nonexistent/dir/state.json", "x"); }));
}

TEST(FileUtil, WriteKnobWritesOnceAndNamesPathAndValue) {
  test::TempDir dir;
  const auto knob = dir.path() / "memory.max";
  write_file_atomic(knob, "max\n");
  write_knob(knob, "1048576");
  EXPECT_EQ(read_file(knob), "1048576");
}

TEST(FileUtil, WriteKnobErrors) {
  EXPECT_EQ(error_of([] { write_knob("/nonexistent/memory.max", "12\n"); }),
            "write 12 to /nonexistent/memory.max: No such file or directory");
  // The kernel refuses a value it cannot parse: the error names both.
  EXPECT_EQ(error_of([] { write_knob("/proc/self/oom_score_adj", "lots"); }),
            "write lots to /proc/self/oom_score_adj: Invalid argument");
}

TEST(FileUtil, FileLockExcludesOthersUntilReleased) {
  test::TempDir dir;
  const auto path = dir.path() / "lock";
  auto try_lock = [&path] {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    return fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;
  };
  {
    FileLock lock(path);
    EXPECT_FALSE(try_lock());
    FileLock moved(std::move(lock));
    EXPECT_FALSE(try_lock()) << "a moved lock is still held";
  }
  EXPECT_TRUE(try_lock());
}

}  // namespace
}  // namespace mcore::engine
