#include "engine/logs/container_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <nlohmann/json.hpp>

namespace mcore::engine {

const char* log_stream_name(LogStream stream) {
  return stream == LogStream::stderr_stream ? "stderr" : "stdout";
}

std::filesystem::path rotated_log_path(const std::filesystem::path& log_path, unsigned generation) {
  if (generation == 0) return log_path;
  return log_path.string() + "." + std::to_string(generation);
}

// Turns an entry into its JSON line without allocating once warmed up: the JSON object, its strings
// and the output buffer live as long as the writer, and the serializer writes into that buffer
// (json::dump builds a new serializer, adapter and string every time). The `replace` error handler
// writes U+FFFD for bytes that are not UTF-8, so any output makes a valid JSON line; std::map keeps
// the keys in Docker's order (log, stream, time).
class ContainerLogWriter::EntryEncoder {
 public:
  EntryEncoder()
      : entry_{{"log", ""}, {"stream", ""}, {"time", ""}},
        log_(entry_["log"].get_ref<std::string&>()),
        stream_(entry_["stream"].get_ref<std::string&>()),
        time_(entry_["time"].get_ref<std::string&>()),
        serializer_(std::make_shared<nlohmann::detail::output_string_adapter<char>>(line_), ' ',
                    nlohmann::json::error_handler_t::replace) {}

  // The entry's line, "\n" included; valid until the next call.
  std::string_view encode(LogStream stream, std::string_view text) {
    log_.assign(text);
    stream_.assign(log_stream_name(stream));
    format_now();
    line_.clear();
    serializer_.dump(entry_, false, false, 0);
    line_ += '\n';
    return line_;
  }

 private:
  // "2026-11-23T10:00:00.123456789Z"; the part up to the seconds is formatted once per second.
  void format_now() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != formatted_second_) {
      tm utc{};
      ::gmtime_r(&now.tv_sec, &utc);
      second_length_ = std::strftime(second_text_, sizeof second_text_, "%Y-%m-%dT%H:%M:%S.", &utc);
      formatted_second_ = now.tv_sec;
    }
    char nanoseconds[9];
    long rest = now.tv_nsec;
    for (int digit = 8; digit >= 0; --digit, rest /= 10)
      nanoseconds[digit] = static_cast<char>('0' + rest % 10);
    time_.assign(second_text_, second_length_);
    time_.append(nanoseconds, sizeof nanoseconds);
    time_ += 'Z';
  }

  nlohmann::json entry_;
  std::string& log_;
  std::string& stream_;
  std::string& time_;
  std::string line_;
  nlohmann::detail::serializer<nlohmann::json> serializer_;
  time_t formatted_second_ = -1;
  char second_text_[40] = {};
  std::size_t second_length_ = 0;
};

ContainerLogWriter::ContainerLogWriter(std::filesystem::path log_path, LogOptions options)
    : options_(options), encoder_(std::make_unique<EntryEncoder>()) {
  const unsigned files = options_.max_size == 0 ? 1 : std::clamp(options_.max_files, 1u, kMaxLogFiles);
  for (unsigned generation = 0; generation < files; ++generation) {
    paths_.push_back(rotated_log_path(log_path, generation).string());
  }
  open_current();
}

ContainerLogWriter::~ContainerLogWriter() {
  try {
    flush();
  } catch (...) {  // out of memory while encoding: nothing more can be saved
  }
}

void ContainerLogWriter::open_current() {
  fd_.reset(::open(paths_[0].c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  struct stat status {};
  file_size_ = fd_ && ::fstat(fd_.get(), &status) == 0 ? static_cast<std::uint64_t>(status.st_size) : 0;
}

void ContainerLogWriter::write(LogStream stream, const char* data, std::size_t size) {
  std::string& unfinished = unfinished_[static_cast<std::size_t>(stream)];
  while (size > 0) {
    const std::size_t room = kMaxLogEntryText - unfinished.size();
    const std::size_t scanned = std::min(size, room);
    const auto* newline = static_cast<const char*>(std::memchr(data, '\n', scanned));
    const std::size_t taken = newline != nullptr ? static_cast<std::size_t>(newline - data) + 1 : scanned;
    if (newline == nullptr && taken < room) {  // the line goes on in a later chunk
      unfinished.append(data, taken);
      return;
    }
    // A line ended, or a full entry's worth of one is waiting. Lines wholly inside the chunk are
    // encoded straight from it.
    if (unfinished.empty()) {
      write_entry(stream, {data, taken});
    } else {
      unfinished.append(data, taken);
      write_entry(stream, unfinished);
      unfinished.clear();
    }
    data += taken;
    size -= taken;
  }
}

void ContainerLogWriter::flush() {
  for (auto stream : {LogStream::stdout_stream, LogStream::stderr_stream}) {
    std::string& unfinished = unfinished_[static_cast<std::size_t>(stream)];
    if (unfinished.empty()) continue;
    write_entry(stream, unfinished);
    unfinished.clear();
  }
}

void ContainerLogWriter::write_entry(LogStream stream, std::string_view text) {
  if (unreported_failures_ > 0) {
    // The log itself says what it is missing, where the gap is.
    const std::string note = "mcore: " + std::to_string(unreported_failures_) +
                             " log entries were lost here: the log could not be written (" +
                             std::strerror(last_error_) + ")\n";
    if (append_entry(LogStream::stderr_stream, note)) unreported_failures_ = 0;
  }
  if (unreported_failures_ == 0 && append_entry(stream, text)) return;
  last_error_ = errno;
  ++failed_writes_;
  ++unreported_failures_;
}

bool ContainerLogWriter::append_entry(LogStream stream, std::string_view text) {
  const std::string_view line = encoder_->encode(stream, text);
  if (options_.max_size > 0 && file_size_ > 0 && file_size_ + line.size() > options_.max_size) rotate();
  if (!fd_) open_current();
  if (!fd_) return false;
  // One O_APPEND write per entry: entries never interleave, and a reader that catches one half
  // written waits for its newline.
  ssize_t written;
  do {
    written = ::write(fd_.get(), line.data(), line.size());
  } while (written < 0 && errno == EINTR);
  if (written == static_cast<ssize_t>(line.size())) {
    file_size_ += line.size();
    return true;
  }
  if (written >= 0) errno = ENOSPC;  // a short write: the disk filled up
  const int error = errno;
  if (written > 0) {
    // The start of a line is in the file: cut it off, or at least end it, so that the next entry starts
    // a line of its own.
    if (::ftruncate(fd_.get(), static_cast<off_t>(file_size_)) != 0) {
      file_size_ += static_cast<std::uint64_t>(written);
      if (::write(fd_.get(), "\n", 1) == 1) ++file_size_;
    }
  }
  errno = error;
  return false;
}

// container.log.(N-2) -> .(N-1), ..., container.log -> .1, then a new container.log. Renaming (rather
// than truncating) lets a reader that has the old file open finish it; with one file the old one is
// unlinked for the same reason.
void ContainerLogWriter::rotate() {
  fd_.reset();
  if (paths_.size() == 1) {
    ::unlink(paths_[0].c_str());
  } else {
    for (std::size_t generation = paths_.size() - 1; generation > 0; --generation) {
      ::rename(paths_[generation - 1].c_str(), paths_[generation].c_str());
    }
  }
  open_current();
}

}  // namespace mcore::engine
