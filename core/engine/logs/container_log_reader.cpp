#include "engine/logs/container_log_reader.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <deque>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/util/rfc3339.hpp"
#include "mcore/error.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;
namespace chrono = std::chrono;

namespace {

// Reads the fields of a date and time left to right.
class TextCursor {
 public:
  explicit TextCursor(std::string_view text) : text_(text) {}
  bool at_end() const { return position_ == text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[position_]; }
  bool skip(char expected) {
    if (at_end() || text_[position_] != expected) return false;
    ++position_;
    return true;
  }
  // Exactly `count` decimal digits.
  bool number(std::size_t count, int& value) {
    if (text_.size() - position_ < count) return false;
    value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const char digit = text_[position_ + i];
      if (digit < '0' || digit > '9') return false;
      value = value * 10 + (digit - '0');
    }
    position_ += count;
    return true;
  }
  // One or more digits of a fraction of a second; those past the ninth are dropped, as Go does.
  bool fraction(std::int64_t& nanoseconds) {
    std::size_t digits = 0;
    nanoseconds = 0;
    for (; !at_end() && peek() >= '0' && peek() <= '9'; ++position_, ++digits) {
      if (digits < 9) nanoseconds = nanoseconds * 10 + (peek() - '0');
    }
    for (std::size_t padding = digits; padding < 9; ++padding) nanoseconds *= 10;
    return digits > 0;
  }

 private:
  std::string_view text_;
  std::size_t position_ = 0;
};

enum class MissingZone { refused, local_time };

// Nanoseconds since the epoch reach only the years 1677 to 2262: times beyond are taken as the
// earliest or latest there is (--since 2999-01-01 shows nothing, as it should).
LogTime saturated_log_time(chrono::sys_seconds seconds, chrono::nanoseconds fraction) {
  constexpr auto kLimit =
      chrono::duration_cast<chrono::seconds>(chrono::nanoseconds::max()) - chrono::seconds(1);
  if (seconds.time_since_epoch() > kLimit) return LogTime::max();
  if (seconds.time_since_epoch() < -kLimit) return LogTime::min();
  return LogTime(seconds) + fraction;
}

// "YYYY-MM-DD[THH:MM[:SS[.fraction]]][Z|±HH:MM]". Without a zone (when allowed) the time is local.
std::optional<LogTime> parse_date_time(std::string_view text, MissingZone missing_zone) {
  TextCursor cursor(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::int64_t nanoseconds = 0;
  if (!cursor.number(4, year) || !cursor.skip('-') || !cursor.number(2, month) || !cursor.skip('-') ||
      !cursor.number(2, day)) {
    return std::nullopt;
  }
  if (cursor.skip('T') || cursor.skip('t')) {
    if (!cursor.number(2, hour) || !cursor.skip(':') || !cursor.number(2, minute)) return std::nullopt;
    if (cursor.skip(':')) {
      if (!cursor.number(2, second)) return std::nullopt;
      if (cursor.skip('.') && !cursor.fraction(nanoseconds)) return std::nullopt;
    }
  }
  const chrono::year_month_day date{chrono::year{year}, chrono::month{static_cast<unsigned>(month)},
                                    chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;

  std::optional<chrono::minutes> offset;
  if (cursor.skip('Z') || cursor.skip('z')) {
    offset = chrono::minutes(0);
  } else if (cursor.peek() == '+' || cursor.peek() == '-') {
    const bool west = cursor.peek() == '-';
    cursor.skip(cursor.peek());
    int offset_hours = 0, offset_minutes = 0;
    if (!cursor.number(2, offset_hours) || !cursor.skip(':') || !cursor.number(2, offset_minutes)) {
      return std::nullopt;
    }
    offset = chrono::minutes(offset_hours * 60 + offset_minutes) * (west ? -1 : 1);
  }
  if (!cursor.at_end()) return std::nullopt;

  const auto fraction = chrono::nanoseconds(nanoseconds);
  if (offset) {
    const auto utc =
        chrono::sys_days(date) + chrono::hours(hour) + chrono::minutes(minute) + chrono::seconds(second);
    return saturated_log_time(utc - *offset, fraction);
  }
  if (missing_zone == MissingZone::refused) return std::nullopt;
  tm local{};
  local.tm_year = year - 1900;
  local.tm_mon = month - 1;
  local.tm_mday = day;
  local.tm_hour = hour;
  local.tm_min = minute;
  local.tm_sec = second;
  local.tm_isdst = -1;
  const time_t seconds = ::mktime(&local);
  return saturated_log_time(chrono::sys_seconds(chrono::seconds(seconds)), fraction);
}

struct DurationUnit {
  std::string_view name;
  long double nanoseconds;
};
constexpr DurationUnit kUnits[] = {{"ns", 1},   {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"\xCE\xBCs", 1e3},
                                   {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9}};

// Go's time.ParseDuration: "300ms", "-1.5h", "2h45m", "1h30m10.5s"; units ns, us (µs), ms, s, m, h.
std::optional<chrono::nanoseconds> parse_go_duration(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return chrono::nanoseconds(0);
  if (text.empty()) return std::nullopt;
  const auto is_number_char = [](char c) { return (c >= '0' && c <= '9') || c == '.'; };
  long double total = 0;
  while (!text.empty()) {
    const std::size_t number_length =
        static_cast<std::size_t>(std::find_if_not(text.begin(), text.end(), is_number_char) - text.begin());
    const std::string_view number = text.substr(0, number_length);
    if (number.empty() || number == "." || std::count(number.begin(), number.end(), '.') > 1)
      return std::nullopt;
    text.remove_prefix(number_length);
    const std::size_t unit_length =
        static_cast<std::size_t>(std::find_if(text.begin(), text.end(), is_number_char) - text.begin());
    const std::string_view unit = text.substr(0, unit_length);
    text.remove_prefix(unit_length);
    const auto known = std::find_if(std::begin(kUnits), std::end(kUnits),
                                    [&](const DurationUnit& candidate) { return candidate.name == unit; });
    if (known == std::end(kUnits)) return std::nullopt;  // a unit is required after every number
    total += std::stold(std::string(number)) * known->nanoseconds;
  }
  if (total > 9.2e18L) return std::nullopt;
  const auto duration = chrono::nanoseconds(std::llround(total));
  return negative ? -duration : duration;
}

// "1700000000" or "1700000000.123456789": seconds since the epoch.
std::optional<LogTime> parse_unix_timestamp(std::string_view text) {
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::int64_t seconds = 0;
  const auto [end, error] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (whole.empty() || error != std::errc() || end != whole.data() + whole.size()) return std::nullopt;
  std::int64_t nanoseconds = 0;
  if (dot != std::string_view::npos) {
    TextCursor cursor(text.substr(dot + 1));
    if (!cursor.fraction(nanoseconds) || !cursor.at_end()) return std::nullopt;
  }
  return saturated_log_time(chrono::sys_seconds(chrono::seconds(seconds)), chrono::nanoseconds(nanoseconds));
}

// The "log", "stream" and "time" of one line of the log; false for a line that is not an entry.
bool parse_entry(std::string_view line, LogEntry& entry) {
  const auto json = nlohmann::json::parse(line, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return false;
  const auto time = json.find("time");
  if (time == json.end() || !time->is_string()) return false;
  const auto parsed_time = parse_log_time(time->get_ref<const std::string&>());
  if (!parsed_time) return false;
  entry.time = *parsed_time;
  const auto stream = json.find("stream");
  entry.stream =
      stream != json.end() && *stream == "stderr" ? LogStream::stderr_stream : LogStream::stdout_stream;
  // Docker leaves "log" out when it is empty.
  const auto log = json.find("log");
  if (log != json.end() && log->is_string()) {
    entry.text = log->get_ref<const std::string&>();
  } else {
    entry.text.clear();
  }
  return true;
}

// A file's identity while some descriptor holds it open (so its inode number cannot be reused).
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  bool operator==(const FileIdentity&) const = default;
};

std::optional<FileIdentity> identity_of(const fs::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) == 0) return FileIdentity{status.st_dev, status.st_ino};
  if (errno == ENOENT) return std::nullopt;
  throw Error::from_errno("stat " + path.string());
}

// A line of the log, without its "\n".
using LineHandler = std::function<void(std::string_view)>;

// One file of the log, read in whole lines from where the last read stopped.
class LogFile {
 public:
  // nullopt when there is no such file.
  static std::optional<LogFile> open(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT) return std::nullopt;
      throw Error::from_errno("open the container log " + path.string(), "mcore logs needs root");
    }
    struct stat status {};
    if (::fstat(fd.get(), &status) != 0) throw Error::from_errno("stat " + path.string());
    return LogFile(std::move(fd), {status.st_dev, status.st_ino}, path);
  }

  const FileIdentity& identity() const { return identity_; }

  // Hands `on_line` every line completed since the last call; a line still being written waits.
  void read_lines(const LineHandler& on_line) {
    char buffer[64 * 1024];
    for (;;) {
      const ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Error::from_errno("read the container log " + path_);
      if (n == 0) return;
      std::string_view chunk(buffer, static_cast<std::size_t>(n));
      for (auto newline = chunk.find('\n'); newline != std::string_view::npos; newline = chunk.find('\n')) {
        if (unfinished_.empty()) {
          on_line(chunk.substr(0, newline));
        } else {
          unfinished_.append(chunk.substr(0, newline));
          on_line(unfinished_);
          unfinished_.clear();
        }
        chunk.remove_prefix(newline + 1);
      }
      unfinished_.append(chunk);
    }
  }

  // For a file nobody writes any more: the rest, a last line without "\n" included.
  void finish(const LineHandler& on_line) {
    read_lines(on_line);
    if (unfinished_.empty()) return;
    on_line(unfinished_);
    unfinished_.clear();
  }

 private:
  LogFile(UniqueFd fd, FileIdentity identity, const fs::path& path)
      : fd_(std::move(fd)), identity_(identity), path_(path.string()) {}

  UniqueFd fd_;
  FileIdentity identity_;
  std::string path_;
  std::string unfinished_;
};

// The generations N of the rotated files <log_path>.N that exist, lowest (newest) first.
std::vector<unsigned> rotated_generations(const fs::path& log_path) {
  const std::string prefix = log_path.filename().string() + ".";
  std::vector<unsigned> generations;
  std::error_code error;
  for (fs::directory_iterator entry(log_path.parent_path(), error), end; !error && entry != end;
       entry.increment(error)) {
    const std::string name = entry->path().filename().string();
    if (!name.starts_with(prefix) || name.size() == prefix.size() || name[prefix.size()] == '0') continue;
    unsigned generation = 0;
    const char* digits_end = name.data() + name.size();
    const auto [end_of_number, failure] =
        std::from_chars(name.data() + prefix.size(), digits_end, generation);
    if (failure == std::errc() && end_of_number == digits_end) generations.push_back(generation);
  }
  std::sort(generations.begin(), generations.end());
  return generations;
}

// Every file of the log, oldest first, all open at once: a consistent picture even while the writer
// rotates. A rotation moves each file one name up and replaces the current file; one that happens
// while the files are being opened can show a file twice or skip one, so then the files are opened
// again (the current file's identity changed, and cannot come back while we hold it open).
std::vector<LogFile> open_log_files(const fs::path& log_path) {
  constexpr int kAttempts = 10;
  for (int attempt = 1;; ++attempt) {
    std::vector<LogFile> newest_first;
    std::optional<FileIdentity> current_identity;
    if (auto current = LogFile::open(log_path)) {
      current_identity = current->identity();
      newest_first.push_back(std::move(*current));
    }
    for (unsigned generation : rotated_generations(log_path)) {
      auto file = LogFile::open(rotated_log_path(log_path, generation));
      if (!file) continue;
      const bool seen = std::any_of(newest_first.begin(), newest_first.end(), [&](const LogFile& other) {
        return other.identity() == file->identity();
      });
      if (!seen) newest_first.push_back(std::move(*file));
    }
    if (identity_of(log_path) == current_identity || attempt == kAttempts) {
      std::reverse(newest_first.begin(), newest_first.end());
      return newest_first;
    }
  }
}

// Wakes the follower when something changes in the log's directory (inotify), or after a timeout.
// Without inotify (out of instances or watches) the timeout alone paces it.
class DirectoryWatch {
 public:
  explicit DirectoryWatch(const fs::path& directory) : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    constexpr std::uint32_t kChanges = IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE;
    if (fd_ && ::inotify_add_watch(fd_.get(), directory.c_str(), kChanges) < 0) fd_.reset();
  }

  // True when something changed before `timeout` passed.
  bool wait(chrono::milliseconds timeout) {
    if (!fd_) {
      std::this_thread::sleep_for(timeout);
      return false;
    }
    pollfd watched{fd_.get(), POLLIN, 0};
    if (::poll(&watched, 1, static_cast<int>(timeout.count())) <= 0) return false;
    alignas(inotify_event) char events[4096];
    while (::read(fd_.get(), events, sizeof events) > 0) {
    }
    return true;
  }

 private:
  UniqueFd fd_;
};

class LogReader {
 public:
  LogReader(const fs::path& log_path, const LogReadOptions& options, LogSink& sink)
      : log_path_(log_path),
        options_(options),
        sink_(sink),
        show_line_([this](std::string_view line) { show(line); }) {}

  // What the log holds now, tail applied; the current file stays open for follow().
  void read_existing() {
    auto files = open_log_files(log_path_);
    std::deque<std::string> last_lines;
    const LineHandler keep = [&](std::string_view line) {
      if (!options_.tail) return show(line);
      if (*options_.tail == 0) return;
      if (last_lines.size() == *options_.tail) last_lines.pop_front();
      last_lines.emplace_back(line);
    };
    for (std::size_t i = 0; i + 1 < files.size(); ++i) files[i].finish(keep);
    if (!files.empty()) {
      current_ = std::move(files.back());
      current_->read_lines(keep);
    }
    for (const auto& line : last_lines) show(line);
  }

  void follow() {
    DirectoryWatch watch(log_path_.parent_path());
    auto last_check = chrono::steady_clock::now();
    bool check_running = true;  // at once: a container that has ended needs no waiting
    bool ending = false;
    for (;;) {
      if (!current_) take_newer_files();
      if (current_) {
        current_->read_lines(show_line_);
        if (current_rotated_away()) {
          // The writer has moved on to a new file: this one is complete.
          current_->finish(show_line_);
          previous_ = std::move(current_);
          current_.reset();
          continue;
        }
      }
      if (ending) return;
      if (check_running) {
        last_check = chrono::steady_clock::now();
        // Once the writer is gone, one more pass delivers what it wrote last.
        ending = !options_.still_running || !options_.still_running();
        if (ending) continue;
      }
      sink_.idle();
      const bool changed = watch.wait(options_.poll_interval);
      check_running = !changed || chrono::steady_clock::now() - last_check >= chrono::seconds(1);
    }
  }

 private:
  void show(std::string_view line) {
    if (!parse_entry(line, entry_)) return;
    if (options_.since && entry_.time < *options_.since) return;
    sink_.entry(entry_);
  }

  bool current_rotated_away() const {
    const auto identity = identity_of(log_path_);
    return identity && *identity != current_->identity();
  }

  // Reads the files newer than previous_ (all of them without one, or when it was rotated out of
  // existence) and keeps the newest open as current_.
  void take_newer_files() {
    auto files = open_log_files(log_path_);
    std::size_t first = 0;
    for (std::size_t i = 0; previous_ && i < files.size(); ++i) {
      if (files[i].identity() == previous_->identity()) first = i + 1;
    }
    if (first >= files.size()) return;
    for (; first + 1 < files.size(); ++first) files[first].finish(show_line_);
    current_ = std::move(files.back());
    previous_.reset();
  }

  const fs::path& log_path_;
  const LogReadOptions& options_;
  LogSink& sink_;
  const LineHandler show_line_;
  LogEntry entry_;                   // reused for every line
  std::optional<LogFile> current_;   // the newest file, being read as it grows
  std::optional<LogFile> previous_;  // the file read to its end last, held open to keep its identity
};

}  // namespace

std::optional<LogTime> parse_log_time(std::string_view text) {
  return parse_date_time(text, MissingZone::refused);
}

std::string format_log_time(LogTime time) {
  const auto seconds = chrono::floor<chrono::seconds>(time);
  timespec parts{};
  parts.tv_sec = static_cast<time_t>(seconds.time_since_epoch().count());
  parts.tv_nsec = static_cast<long>((time - seconds).count());
  return format_rfc3339(parts);
}

LogTime parse_since(const std::string& flag, const std::string& value, LogTime now) {
  if (value != "0") {
    if (auto duration = parse_go_duration(value)) return now - *duration;
  }
  if (auto time = parse_date_time(value, MissingZone::local_time)) return *time;
  if (auto time = parse_unix_timestamp(value)) return *time;
  throw Error("invalid value \"" + value + "\" for " + flag, 0,
              "give a duration before now (10m, 1h30m), an RFC 3339 time (2026-11-23T10:00:00Z) or a Unix "
              "timestamp");
}

void read_container_log(const fs::path& log_path, const LogReadOptions& options, LogSink& sink) {
  LogReader reader(log_path, options, sink);
  reader.read_existing();
  if (options.follow) reader.follow();
}

}  // namespace mcore::engine
