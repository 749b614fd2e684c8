#pragma once
// Reads a container's json-file log back (container_log.hpp writes it), as `docker logs` does: across
// the rotated files oldest first, the last N entries, those since a time, and following the log as the
// supervisor appends to and rotates it.
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/logs/container_log.hpp"

namespace mcore::engine {

using LogTime = std::chrono::sys_time<std::chrono::nanoseconds>;

// An RFC 3339 time with its zone ("2026-11-23T10:00:00.123456789Z", "...+02:00"), as in the "time"
// field; nullopt when `text` is not one.
std::optional<LogTime> parse_log_time(std::string_view text);

// "2026-11-23T10:00:00.000000000Z": the time in UTC with nine fractional digits, as `docker logs -t`.
std::string format_log_time(LogTime time);

// Docker's --since value: a Go duration before `now` ("10m", "1h30m", "1.5s"), an RFC 3339 time (local
// time when it has no zone; a date alone is its midnight) or a Unix timestamp ("1700000000.5"). Throws
// Error naming `flag` and the value when it is none of these.
LogTime parse_since(const std::string& flag, const std::string& value, LogTime now);

struct LogEntry {
  LogStream stream = LogStream::stdout_stream;
  LogTime time;
  std::string text;  // the "log" field: the line, its "\n" included when it had one
};

// Where read_container_log() delivers entries, in the order they were written.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void entry(const LogEntry& entry) = 0;
  // Everything written so far was delivered and the reader will wait for more: flush what is buffered.
  virtual void idle() {}
};

struct LogReadOptions {
  std::optional<std::size_t> tail;  // only the last N entries (of those that exist when reading starts)
  std::optional<LogTime> since;     // only entries at or after this time (applied after tail, as Docker)
  bool follow = false;              // then keep delivering entries as they are written
  // With follow: asked whenever the log has been quiet for poll_interval (and at least once a second);
  // once it answers false, the rest of the log is delivered and reading ends. The log's writer must be
  // gone by then (the container's supervisor is).
  std::function<bool()> still_running;
  std::chrono::milliseconds poll_interval{250};
};

// Delivers the entries of the log at `log_path` (ContainerStore::log_path) and of its rotations to
// `sink`. Lines that are not entries (damaged by a crash) are skipped. No log at all is an empty log;
// with follow, entries are delivered once it appears. Rotation while following loses and repeats
// nothing, unless the writer drops a file (max_files) before it was read. Throws Error when a log file
// exists but cannot be read; exceptions from the sink pass through.
void read_container_log(const std::filesystem::path& log_path, const LogReadOptions& options, LogSink& sink);

}  // namespace mcore::engine
