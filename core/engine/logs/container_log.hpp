#pragma once
// The container's log in Docker's json-file format: one JSON object per line,
//   {"log":"text\n","stream":"stdout","time":"2026-11-23T10:00:00.123456789Z"}
// in <container dir>/container.log, rotated to container.log.1, .2 ... (.1 the newest).
// The writer runs in the per-container supervisor, which stays small and static: this header and
// container_log.cpp use only the standard library, nlohmann/json and libc (no mcore::Error, no Boost).
// Parsing the options is container_log_options.cpp; reading the log back (tail, since, follow) is
// container_log_reader.hpp.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/logs/log_options.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {

enum class LogStream : unsigned char { stdout_stream, stderr_stream };

// The "stream" field: "stdout" or "stderr".
const char* log_stream_name(LogStream stream);

// At most this many files per log (--log-opt max-file), so that rotation stays a handful of renames.
inline constexpr unsigned kMaxLogFiles = 100;

// --log-driver: json-file is the only driver; throws mcore::Error naming any other.
void check_log_driver(const std::string& driver);

// --log-opt values in Docker's json-file syntax: "max-size=10m" (units k, m, g...; rotate when the file
// would grow past it) and "max-file=3" (files kept, the current one included; needs max-size when above
// 1). Throws mcore::Error naming an unknown key or a bad value. Both are defined in
// container_log_options.cpp, apart from the writer, which the supervisor links without mcore::Error.
LogOptions parse_log_options(const std::vector<std::string>& values);

// The config's log_opts ("key=value") with a container's own --log-opt values over them, key by key.
std::vector<std::string> with_log_defaults(const std::vector<std::string>& defaults,
                                           const std::vector<std::string>& own);

// Docker's copier hands the log driver at most this many bytes per entry: a longer line is written as
// several entries, all but the last without a newline.
inline constexpr std::size_t kMaxLogEntryText = 16 * 1024;

// The file that holds the `generation`-th rotation of `log_path`: the path itself for 0, else
// "<log_path>.<generation>".
std::filesystem::path rotated_log_path(const std::filesystem::path& log_path, unsigned generation);

// Appends a container's output to its json-file log. Not thread-safe: one writer per log, in one thread.
// Never throws after construction and never stops the caller: a failed open, write or rotation (disk
// full, directory gone) drops the entry and counts it in failed_writes(); the next entry tries again,
// and the first one written after losses is preceded by a stderr entry saying how many were lost.
class ContainerLogWriter {
 public:
  // Opens (creating, mode 0640) `log_path` for appending; an existing log is continued, as when a
  // container restarts. `options.max_size` 0 never rotates; `options.max_files` counts the current file.
  ContainerLogWriter(std::filesystem::path log_path, LogOptions options);
  ~ContainerLogWriter();
  ContainerLogWriter(const ContainerLogWriter&) = delete;
  ContainerLogWriter& operator=(const ContainerLogWriter&) = delete;

  // Adds `size` bytes the container wrote to `stream`. Each complete line becomes one entry (its text
  // ending in "\n"); the rest of the chunk waits for the line's end, or is written on its own, without a
  // newline, once kMaxLogEntryText bytes of it are waiting.
  void write(LogStream stream, const char* data, std::size_t size);

  // Writes each stream's unfinished line, without a newline (the container's output ended).
  void flush();

  std::uint64_t failed_writes() const { return failed_writes_; }

 private:
  void write_entry(LogStream stream, std::string_view text);
  // Encodes and appends one entry; false (errno set) when it could not be written whole.
  bool append_entry(LogStream stream, std::string_view text);
  void rotate();
  void open_current();

  std::vector<std::string> paths_;  // [0] the current file, [n] its n-th rotation, up to max_files - 1
  LogOptions options_;
  UniqueFd fd_;
  std::uint64_t file_size_ = 0;
  std::uint64_t failed_writes_ = 0;
  std::uint64_t unreported_failures_ = 0;  // lost since the last entry that was written
  int last_error_ = 0;
  std::array<std::string, 2> unfinished_;  // per stream: the start of a line not yet ended
  class EntryEncoder;
  std::unique_ptr<EntryEncoder> encoder_;
};

}  // namespace mcore::engine
