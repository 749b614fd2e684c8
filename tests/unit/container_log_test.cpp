// The json-file container log: the writer (lines, 16 KiB pieces, escaping, rotation, failures), the
// options parser, and the reader (rotated files, tail, since, follow across rotations).
#include "engine/logs/container_log.hpp"

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "engine/logs/container_log_reader.hpp"
#include "mcore/error.hpp"
#include "test_support.hpp"

// Counts the allocations of the whole test program, so that a test can see the writer make none.
std::atomic<std::size_t> allocations{0};

void* operator new(std::size_t size) {
  ++allocations;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
// GCC takes the malloc/free pair of a replaced operator new/delete for a mismatch.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
#pragma GCC diagnostic pop

namespace mcore::engine {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::error_of;
using test::read_text;
using test::TempDir;

std::vector<std::string> lines_of(const fs::path& path) {
  std::vector<std::string> lines;
  std::istringstream text(read_text(path));
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  return lines;
}

std::vector<nlohmann::json> entries_of(const fs::path& path) {
  std::vector<nlohmann::json> entries;
  for (const auto& line : lines_of(path)) entries.push_back(nlohmann::json::parse(line));
  return entries;
}

void write_text(ContainerLogWriter& writer, LogStream stream, std::string_view text) {
  writer.write(stream, text.data(), text.size());
}

LogTime now() {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

class LogDir : public ::testing::Test {
 protected:
  fs::path log() const { return dir_.path() / "container.log"; }
  // The names of the log's files that exist, newest first.
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_.path()))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  TempDir dir_{"mcore-log-test"};
};

// --- writer ---

TEST_F(LogDir, EachLineIsOneJsonLineInDockersFormat) {
  const auto before = now();
  {
    ContainerLogWriter writer(log(), {});
    write_text(writer, LogStream::stdout_stream, "first\nsecond\n");
    write_text(writer, LogStream::stderr_stream, "oops\n");
  }
  const auto after = now();
  const auto lines = lines_of(log());
  ASSERT_EQ(lines.size(), 3u) << read_text(log());
  EXPECT_TRUE(lines[0].starts_with(R"({"log":"first\n","stream":"stdout","time":")")) << lines[0];
  EXPECT_TRUE(lines[2].starts_with(R"({"log":"oops\n","stream":"stderr","time":")")) << lines[2];
  for (const auto& line : lines) {
    const std::string time = nlohmann::json::parse(line)["time"];
    ASSERT_EQ(time.size(), 30u) << "RFC 3339 with nine fractional digits, UTC: " << time;
    EXPECT_EQ(time.back(), 'Z');
    const auto parsed = parse_log_time(time);
    ASSERT_TRUE(parsed) << time;
    EXPECT_GE(*parsed, before);
    EXPECT_LE(*parsed, after);
    EXPECT_EQ(format_log_time(*parsed), time);
  }
  struct stat status {};
  ASSERT_EQ(::stat(log().c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777, 0640u);
}

TEST_F(LogDir, UnfinishedLinesWaitPerStreamUntilTheirEndOrFlush) {
  ContainerLogWriter writer(log(), {});
  write_text(writer, LogStream::stdout_stream, "hel");
  write_text(writer, LogStream::stderr_stream, "partial error");
  write_text(writer, LogStream::stdout_stream, "lo\nwor");
  auto entries = entries_of(log());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["log"], "hello\n");

  writer.flush();
  entries = entries_of(log());
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1]["log"], "wor");
  EXPECT_EQ(entries[1]["stream"], "stdout");
  EXPECT_EQ(entries[2]["log"], "partial error");
  EXPECT_EQ(entries[2]["stream"], "stderr");

  writer.flush();  // nothing left: no empty entries
  EXPECT_EQ(entries_of(log()).size(), 3u);
}

TEST_F(LogDir, LongLinesAreCutInto16KiBEntriesAsDockerDoes) {
  ContainerLogWriter writer(log(), {});
  // Exactly 16 KiB with its newline: one whole entry.
  write_text(writer, LogStream::stdout_stream, std::string(kMaxLogEntryText - 1, 'a') + "\n");
  // 16 KiB without a newline is written at once, without waiting for the line to end.
  write_text(writer, LogStream::stdout_stream, std::string(kMaxLogEntryText, 'b'));
  ASSERT_EQ(entries_of(log()).size(), 2u);
  // 40000 bytes and a newline, in 1000-byte chunks: 16384 + 16384 + 7232 with the newline.
  const std::string long_line = std::string(40000, 'c') + "\n";
  for (std::size_t at = 0; at < long_line.size(); at += 1000) {
    writer.write(LogStream::stdout_stream, long_line.data() + at,
                 std::min<std::size_t>(1000, long_line.size() - at));
  }
  const auto entries = entries_of(log());
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0]["log"], std::string(kMaxLogEntryText - 1, 'a') + "\n");
  EXPECT_EQ(entries[1]["log"], std::string(kMaxLogEntryText, 'b'));
  EXPECT_EQ(entries[2]["log"], std::string(kMaxLogEntryText, 'c'));
  EXPECT_EQ(entries[3]["log"], std::string(kMaxLogEntryText, 'c'));
  EXPECT_EQ(entries[4]["log"], std::string(40000 - 2 * kMaxLogEntryText, 'c') + "\n");
}

TEST_F(LogDir, AnyBytesMakeValidJsonLines) {
  std::string bytes;
  for (int byte = 0; byte < 256; ++byte) {
    if (byte != '\n') bytes += static_cast<char>(byte);
  }
  const std::string utf8 = "caf\xC3\xA9 \xE2\x82\xAC \"quoted\" back\\slash\ttab\r";
  {
    ContainerLogWriter writer(log(), {});
    write_text(writer, LogStream::stdout_stream, bytes + "\n");
    write_text(writer, LogStream::stdout_stream, utf8 + "\n");
    write_text(writer, LogStream::stdout_stream, std::string("\xFF\xFE truncated \xE2\x82", 15) + "\n");
  }
  const auto lines = lines_of(log());
  ASSERT_EQ(lines.size(), 3u) << "a raw newline or a torn line in the file";
  for (const auto& line : lines) {
    EXPECT_TRUE(nlohmann::json::accept(line)) << line;
  }
  const std::string all_bytes = nlohmann::json::parse(lines[0])["log"];
  // ASCII (controls included) survives exactly; each byte that is not UTF-8 becomes U+FFFD.
  std::string expected_ascii;
  for (int byte = 0; byte < 128; ++byte) {
    if (byte != '\n') expected_ascii += static_cast<char>(byte);
  }
  EXPECT_TRUE(all_bytes.starts_with(expected_ascii));
  EXPECT_NE(all_bytes.find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(lines[1])["log"], utf8 + "\n");
  const std::string repaired = nlohmann::json::parse(lines[2])["log"];
  EXPECT_TRUE(repaired.starts_with("\xEF\xBF\xBD")) << repaired;
  EXPECT_NE(repaired.find(" truncated "), std::string::npos) << repaired;
}

TEST_F(LogDir, ContinuesAnExistingLog) {
  {
    ContainerLogWriter writer(log(), {});
    write_text(writer, LogStream::stdout_stream, "before restart\n");
  }
  {
    ContainerLogWriter writer(log(), {});
    write_text(writer, LogStream::stdout_stream, "after restart\n");
  }
  const auto entries = entries_of(log());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["log"], "before restart\n");
  EXPECT_EQ(entries[1]["log"], "after restart\n");
}

TEST_F(LogDir, WritingAllocatesNothingOnceWarmedUp) {
  ContainerLogWriter writer(log(), {4096, 3});
  const std::string chunk = "a line of output\nand half of ano";
  const std::string rest = "ther one\n";
  write_text(writer, LogStream::stdout_stream, chunk);
  write_text(writer, LogStream::stdout_stream, rest);
  const std::size_t before = allocations;
  for (int i = 0; i < 1000; ++i) {  // ~200 KiB: rotations included
    write_text(writer, LogStream::stdout_stream, chunk);
    write_text(writer, LogStream::stderr_stream, rest);
    write_text(writer, LogStream::stdout_stream, rest);
  }
  const std::size_t during = allocations - before;
  EXPECT_EQ(during, 0u);
  const auto counted = std::make_unique<std::string>(100, 'x');
  EXPECT_GT(allocations - before, during) << "the counter misses allocations";
  EXPECT_EQ(writer.failed_writes(), 0u);
  EXPECT_TRUE(fs::exists(rotated_log_path(log(), 2))) << "the log did not rotate";
}

TEST(ContainerLogWriter, FailuresAreCountedNotThrown) {
  // /dev/full takes the open and fails every write with ENOSPC, like a full disk.
  ContainerLogWriter full("/dev/full", {});
  write_text(full, LogStream::stdout_stream, "one\ntwo\n");
  EXPECT_EQ(full.failed_writes(), 2u);

  ContainerLogWriter nowhere("/nonexistent-mcore-dir/container.log", {});
  write_text(nowhere, LogStream::stderr_stream, "lost\n");
  nowhere.flush();
  EXPECT_EQ(nowhere.failed_writes(), 1u);
}

// Writes numbered lines of a known size; returns them.
std::vector<std::string> write_numbered(ContainerLogWriter& writer, int count) {
  std::vector<std::string> written;
  for (int i = 0; i < count; ++i) {
    char line[32];
    std::snprintf(line, sizeof line, "line %04d\n", i);
    written.emplace_back(line);
    write_text(writer, LogStream::stdout_stream, line);
  }
  return written;
}

// The "log" of every entry in the files, oldest file first.
std::vector<std::string> texts_in(const std::vector<fs::path>& oldest_first) {
  std::vector<std::string> texts;
  for (const auto& path : oldest_first) {
    for (const auto& entry : entries_of(path)) texts.push_back(entry["log"]);
  }
  return texts;
}

class Rotation : public LogDir, public ::testing::WithParamInterface<unsigned> {};

TEST_P(Rotation, KeepsMaxFilesEachWithinMaxSizeAndTheNewestLines) {
  const unsigned max_files = GetParam();
  constexpr std::uint64_t kMaxSize = 400;  // an entry is ~75 bytes: 5 per file
  std::vector<std::string> written;
  {
    ContainerLogWriter writer(log(), {kMaxSize, max_files});
    written = write_numbered(writer, 50);
  }
  std::vector<std::string> expected_files = {"container.log"};
  for (unsigned generation = 1; generation < max_files; ++generation) {
    expected_files.push_back("container.log." + std::to_string(generation));
  }
  EXPECT_EQ(files(), expected_files);

  std::vector<fs::path> oldest_first;
  for (unsigned generation = max_files; generation-- > 0;)
    oldest_first.push_back(rotated_log_path(log(), generation));
  for (const auto& path : oldest_first) {
    EXPECT_LE(fs::file_size(path), kMaxSize) << path;
    EXPECT_FALSE(lines_of(path).empty()) << path;
  }
  // Rotated files are full (another entry would not have fitted); together the files hold the newest
  // lines, in order, with none missing.
  const auto kept = texts_in(oldest_first);
  ASSERT_FALSE(kept.empty());
  ASSERT_LE(kept.size(), written.size());
  EXPECT_EQ(kept, std::vector<std::string>(written.end() - static_cast<std::ptrdiff_t>(kept.size()),
                                           written.end()));
  const auto line_size = read_text(log()).size() / lines_of(log()).size();
  for (std::size_t i = 0; i + 1 < oldest_first.size(); ++i) {
    EXPECT_GT(fs::file_size(oldest_first[i]) + line_size, kMaxSize) << oldest_first[i] << " rotated early";
  }
}

INSTANTIATE_TEST_SUITE_P(MaxFiles, Rotation, ::testing::Values(1u, 2u, 3u));

TEST_F(LogDir, WithoutMaxSizeTheLogNeverRotates) {
  {
    ContainerLogWriter writer(log(), {0, 3});
    write_numbered(writer, 200);
  }
  EXPECT_EQ(files(), std::vector<std::string>{"container.log"});
  EXPECT_EQ(lines_of(log()).size(), 200u);
}

TEST_F(LogDir, AnEntryBiggerThanMaxSizeStillGetsAFile) {
  {
    ContainerLogWriter writer(log(), {100, 2});
    write_text(writer, LogStream::stdout_stream, std::string(500, 'x') + "\n");
    write_text(writer, LogStream::stdout_stream, "small\n");
  }
  EXPECT_EQ(entries_of(rotated_log_path(log(), 1)).at(0)["log"], std::string(500, 'x') + "\n");
  EXPECT_EQ(entries_of(log()).at(0)["log"], "small\n");
}

// --- options ---

TEST(LogOptions, ParsesDockersJsonFileOptions) {
  auto options = parse_log_options({});
  EXPECT_EQ(options.max_size, 0u);
  EXPECT_EQ(options.max_files, 1u);
  options = parse_log_options({"max-size=10m", "max-file=3"});
  EXPECT_EQ(options.max_size, 10u << 20);
  EXPECT_EQ(options.max_files, 3u);
  EXPECT_EQ(parse_log_options({"max-size=1k"}).max_size, 1024u);
  EXPECT_EQ(parse_log_options({"max-size=1.5g"}).max_size, 1536u << 20);
  EXPECT_EQ(parse_log_options({"max-size=64kb"}).max_size, 64u << 10);
  EXPECT_EQ(parse_log_options({"max-size=2MiB"}).max_size, 2u << 20);
  EXPECT_EQ(parse_log_options({"max-size=4096"}).max_size, 4096u);
  EXPECT_EQ(parse_log_options({"max-file=1"}).max_files, 1u);
  EXPECT_EQ(parse_log_options({"max-size=1m", "max-size=2m"}).max_size, 2u << 20) << "the last one wins";
}

TEST(LogOptions, RefusesBadOptionsByName) {
  EXPECT_NE(error_of([] { parse_log_options({"compress=true"}); }).find("unknown log option \"compress\""),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_log_options({"max-size"}); }).find("KEY=VALUE"), std::string::npos);
  for (const char* size : {"max-size=0", "max-size=abc", "max-size=10x", "max-size=-1", "max-size="}) {
    EXPECT_NE(error_of([&] { parse_log_options({size}); }).find(size), std::string::npos) << size;
  }
  for (const char* files : {"max-file=0", "max-file=two", "max-file=-1", "max-file=1000000"}) {
    EXPECT_NE(error_of([&] {
                parse_log_options({"max-size=1m", files});
              }).find(files),
              std::string::npos)
        << files;
  }
  EXPECT_NE(error_of([] { parse_log_options({"max-file=2"}); }).find("needs max-size"), std::string::npos);
}

TEST(LogOptions, OnlyTheJsonFileDriver) {
  EXPECT_NO_THROW(check_log_driver("json-file"));
  EXPECT_NE(error_of([] { check_log_driver("syslog"); }).find("\"syslog\" is not supported"),
            std::string::npos);
}

// --- times ---

TEST(LogTimes, ParsesAndFormatsRfc3339) {
  const auto time = parse_log_time("2026-11-23T10:00:00.123456789Z");
  ASSERT_TRUE(time);
  EXPECT_EQ(format_log_time(*time), "2026-11-23T10:00:00.123456789Z");
  // Go trims trailing zeros (Docker's own files); -t always shows nine digits.
  EXPECT_EQ(format_log_time(*parse_log_time("2026-11-23T10:00:00.5Z")), "2026-11-23T10:00:00.500000000Z");
  EXPECT_EQ(format_log_time(*parse_log_time("2026-11-23T10:00:00Z")), "2026-11-23T10:00:00.000000000Z");
  EXPECT_EQ(format_log_time(*parse_log_time("2026-11-23T12:30:00+02:30")), "2026-11-23T10:00:00.000000000Z");
  EXPECT_EQ(format_log_time(*parse_log_time("2026-11-23T08:00:00.25-02:00")),
            "2026-11-23T10:00:00.250000000Z");
  for (const char* bad :
       {"", "2026-11-23", "2026-11-23T10:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-11-23T24:00:00Z", "2026-11-23T10:00:00.Z", "2026-11-23T10:00:00Zjunk"}) {
    EXPECT_FALSE(parse_log_time(bad)) << bad;
  }
}

TEST(LogTimes, SinceTakesDurationsTimesAndUnixTimestamps) {
  const LogTime reference = *parse_log_time("2026-11-23T10:00:00Z");
  const std::pair<const char*, const char*> expectations[] = {
      {"10m", "2026-11-23T09:50:00.000000000Z"},
      {"1h30m", "2026-11-23T08:30:00.000000000Z"},
      {"1.5s", "2026-11-23T09:59:58.500000000Z"},
      {"300ms", "2026-11-23T09:59:59.700000000Z"},
      {"1.1s", "2026-11-23T09:59:58.900000000Z"},
      {"1500us", "2026-11-23T09:59:59.998500000Z"},
      {"2h45m10s", "2026-11-23T07:14:50.000000000Z"},
      {"2026-11-23T09:00:00Z", "2026-11-23T09:00:00.000000000Z"},
      {"2026-11-23T11:00:00.5+02:00", "2026-11-23T09:00:00.500000000Z"},
      {"1700000000", "2023-11-14T22:13:20.000000000Z"},
      {"1700000000.25", "2023-11-14T22:13:20.250000000Z"},
      {"0", "1970-01-01T00:00:00.000000000Z"},
  };
  for (const auto& [value, expected] : expectations) {
    EXPECT_EQ(format_log_time(parse_since("--since", value, reference)), expected) << value;
  }
  // Beyond what nanoseconds since 1970 can count (2262): the latest and earliest times there are.
  EXPECT_EQ(parse_since("--since", "2999-01-01T00:00:00Z", reference), LogTime::max());
  EXPECT_EQ(parse_since("--since", "99999999999999", reference), LogTime::max());
  EXPECT_EQ(parse_since("--since", "1000-01-01T00:00:00Z", reference), LogTime::min());
  for (const char* bad : {"", "yesterday", "10x", "1h30", "m", "1..5s", "2026-11-23T25:00Z"}) {
    const std::string message = error_of([&] { parse_since("--since", bad, reference); });
    EXPECT_NE(message.find("\"" + std::string(bad) + "\" for --since"), std::string::npos) << message;
  }
}

TEST(LogTimes, SinceWithoutAZoneIsLocalTime) {
  const LogTime reference = *parse_log_time("2026-11-23T10:00:00Z");
  ::setenv("TZ", "UTC+3", 1);  // POSIX: three hours west of UTC
  ::tzset();
  EXPECT_EQ(format_log_time(parse_since("--since", "2026-11-23T07:00:00", reference)),
            "2026-11-23T10:00:00.000000000Z");
  EXPECT_EQ(format_log_time(parse_since("--since", "2026-11-23", reference)),
            "2026-11-23T03:00:00.000000000Z");
  ::unsetenv("TZ");
  ::tzset();
}

// --- reader ---

// Collects what the reader delivers; with a mutex, for the follow tests.
class CollectingSink : public LogSink {
 public:
  void entry(const LogEntry& entry) override {
    std::lock_guard lock(mutex_);
    entries_.push_back(entry);
    changed_.notify_all();
  }
  std::vector<LogEntry> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }
  std::vector<std::string> texts() const {
    std::vector<std::string> texts;
    for (const auto& entry : entries()) texts.push_back(entry.text);
    return texts;
  }
  // Blocks until at least `count` entries arrived; false after a timeout.
  bool wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 20s, [&] { return entries_.size() >= count; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<LogEntry> entries_;
};

// Follows until `running` turns false, polling often to keep the tests short.
LogReadOptions following_while(const std::atomic<bool>& running) {
  LogReadOptions options;
  options.follow = true;
  options.poll_interval = 20ms;
  options.still_running = [&running] { return running.load(); };
  return options;
}

std::vector<std::string> read_texts(const fs::path& log, LogReadOptions options = {}) {
  CollectingSink sink;
  read_container_log(log, options, sink);
  return sink.texts();
}

TEST_F(LogDir, ReadsRotatedFilesOldestFirst) {
  std::vector<std::string> written;
  {
    ContainerLogWriter writer(log(), {400, 3});
    written = write_numbered(writer, 12);  // 5 per file: .2 holds 0-4, .1 holds 5-9, the log 10-11
  }
  ASSERT_TRUE(fs::exists(rotated_log_path(log(), 2)));
  EXPECT_EQ(read_texts(log()), written);
}

TEST_F(LogDir, TailCountsFromTheEndAcrossRotatedFiles) {
  std::vector<std::string> written;
  {
    ContainerLogWriter writer(log(), {400, 3});
    written = write_numbered(writer, 12);
  }
  const auto last = [&](std::size_t count) {
    return std::vector<std::string>(written.end() - static_cast<std::ptrdiff_t>(count), written.end());
  };
  LogReadOptions options;
  options.tail = 4;  // two from container.log.1, two from container.log
  EXPECT_EQ(read_texts(log(), options), last(4));
  options.tail = 0;
  EXPECT_EQ(read_texts(log(), options), std::vector<std::string>{});
  options.tail = 100;
  EXPECT_EQ(read_texts(log(), options), written);
}

// Writes a log by hand, with chosen times.
void write_log(const fs::path& path, const std::vector<std::string>& lines) {
  std::ofstream file(path, std::ios::app);
  for (const auto& line : lines) file << line << '\n';
}

TEST_F(LogDir, SinceKeepsEntriesAtOrAfterTheTimeAndAppliesAfterTail) {
  write_log(log(), {R"({"log":"nine\n","stream":"stdout","time":"2026-11-23T09:00:00Z"})",
                    R"({"log":"ten\n","stream":"stderr","time":"2026-11-23T10:00:00.000000000Z"})",
                    R"({"log":"eleven\n","stream":"stdout","time":"2026-11-23T11:00:00.1Z"})"});
  LogReadOptions options;
  options.since = *parse_log_time("2026-11-23T10:00:00Z");
  CollectingSink sink;
  read_container_log(log(), options, sink);
  const auto entries = sink.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].text, "ten\n");
  EXPECT_EQ(entries[0].stream, LogStream::stderr_stream);
  EXPECT_EQ(format_log_time(entries[0].time), "2026-11-23T10:00:00.000000000Z");
  EXPECT_EQ(entries[1].text, "eleven\n");
  EXPECT_EQ(entries[1].stream, LogStream::stdout_stream);

  options.tail = 1;
  EXPECT_EQ(read_texts(log(), options), std::vector<std::string>{"eleven\n"});
  options.since = *parse_log_time("2026-11-23T12:00:00Z");
  EXPECT_EQ(read_texts(log(), options), std::vector<std::string>{});
}

TEST_F(LogDir, SkipsDamagedLinesAndTheLineStillBeingWritten) {
  write_log(log(), {R"({"log":"good\n","stream":"stdout","time":"2026-11-23T09:00:00Z"})", "garbage",
                    R"({"log":"no time\n","stream":"stdout"})", "",
                    R"({"log":"also good\n","stream":"stdout","time":"2026-11-23T09:00:01Z"})"});
  std::ofstream(log(), std::ios::app) << R"({"log":"half)";
  EXPECT_EQ(read_texts(log()), (std::vector<std::string>{"good\n", "also good\n"}));
}

TEST_F(LogDir, NoLogIsAnEmptyLog) {
  EXPECT_EQ(read_texts(log()), std::vector<std::string>{});
  LogReadOptions options;
  options.follow = true;
  options.still_running = [] { return false; };
  EXPECT_EQ(read_texts(log(), options), std::vector<std::string>{});
}

// A writer thread and a following reader: every line arrives once, in order, through any number of
// rotations. The writer stays at most a few lines ahead of the reader, less than a file, so that no file
// is dropped before it was read (which loses lines by design).
class FollowRotation : public LogDir, public ::testing::WithParamInterface<unsigned> {};

TEST_P(FollowRotation, DeliversEveryLineOnceAcrossRotations) {
  constexpr int kLines = 300;
  constexpr std::size_t kMaxLag = 3;
  CollectingSink sink;
  std::atomic<bool> writing{true};
  LogReadOptions options = following_while(writing);

  std::vector<std::string> written;
  std::thread writer_thread([&] {
    ContainerLogWriter writer(log(), {400, GetParam()});
    for (int i = 0; i < kLines; ++i) {
      if (i >= static_cast<int>(kMaxLag)) sink.wait_for(static_cast<std::size_t>(i) - kMaxLag);
      const std::string line = "line " + std::to_string(i) + "\n";
      written.push_back(line);
      write_text(writer, i % 7 == 3 ? LogStream::stderr_stream : LogStream::stdout_stream, line);
    }
    write_text(writer, LogStream::stdout_stream, "no newline at exit");
    writer.flush();
    written.emplace_back("no newline at exit");
    writing = false;
  });
  std::thread reader_thread([&] { read_container_log(log(), options, sink); });
  writer_thread.join();
  reader_thread.join();

  EXPECT_EQ(sink.texts(), written);
  const auto entries = sink.entries();
  ASSERT_GT(entries.size(), 3u);
  EXPECT_EQ(entries[3].stream, LogStream::stderr_stream);
  EXPECT_EQ(entries[4].stream, LogStream::stdout_stream);
}

INSTANTIATE_TEST_SUITE_P(MaxFiles, FollowRotation, ::testing::Values(1u, 2u, 3u));

TEST_F(LogDir, FollowShowsTheTailThenNewEntriesAndEndsWhenTheWriterIsGone) {
  ContainerLogWriter writer(log(), {});
  write_text(writer, LogStream::stdout_stream, "old 1\nold 2\nold 3\n");
  CollectingSink sink;
  std::atomic<bool> running{true};
  LogReadOptions options = following_while(running);
  options.tail = 1;
  std::thread reader_thread([&] { read_container_log(log(), options, sink); });

  ASSERT_TRUE(sink.wait_for(1));
  write_text(writer, LogStream::stdout_stream, "new 1\n");
  ASSERT_TRUE(sink.wait_for(2));
  write_text(writer, LogStream::stderr_stream, "last words\n");
  running = false;  // the line written before the writer went away still arrives
  reader_thread.join();
  EXPECT_EQ(sink.texts(), (std::vector<std::string>{"old 3\n", "new 1\n", "last words\n"}));
}

TEST_F(LogDir, FollowWaitsForALogThatDoesNotExistYet) {
  CollectingSink sink;
  std::atomic<bool> running{true};
  LogReadOptions options = following_while(running);
  std::thread reader_thread([&] { read_container_log(log(), options, sink); });
  std::this_thread::sleep_for(100ms);
  std::vector<std::string> written;
  {
    ContainerLogWriter writer(log(), {});
    written = write_numbered(writer, 3);
  }
  running = false;
  reader_thread.join();
  EXPECT_EQ(sink.texts(), written);
}

}  // namespace
}  // namespace mcore::engine
