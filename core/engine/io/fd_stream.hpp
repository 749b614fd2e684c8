#pragma once
// Byte streams over file descriptors (stdin, stdout, blob files), and a file that appears under its name
// only once it was written completely (mcore save -o).
#include <filesystem>
#include <string>

#include "mcore/unique_fd.hpp"
#include "mcore/io.hpp"

namespace mcore::engine {

// Reads a descriptor it does not own; `what` names it in errors ("standard input").
class FdSource final : public ByteSource {
 public:
  FdSource(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}
  std::size_t read(std::span<std::byte> buffer) override;

 private:
  int fd_;
  std::string what_;
};

// Writes to a descriptor it does not own, retrying short writes.
class FdSink final : public ByteSink {
 public:
  FdSink(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}
  void write(std::span<const std::byte> bytes) override;

 private:
  int fd_;
  std::string what_;
};

// An owned, opened file to read (a blob); throws Error naming `path` when it cannot be opened.
class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::filesystem::path& path);
  std::size_t read(std::span<std::byte> buffer) override;

 private:
  UniqueFd fd_;
  std::string what_;
};

// Writes a temporary file beside `path`; commit() fsyncs it and renames it over `path`. Destroyed
// uncommitted, it removes the temporary, so a failed or interrupted writer leaves nothing at `path`.
class AtomicFileSink final : public ByteSink {
 public:
  explicit AtomicFileSink(std::filesystem::path path, int mode = 0644);
  ~AtomicFileSink() override;
  AtomicFileSink(const AtomicFileSink&) = delete;
  AtomicFileSink& operator=(const AtomicFileSink&) = delete;

  void write(std::span<const std::byte> bytes) override;
  void commit();

 private:
  std::filesystem::path path_;
  std::filesystem::path temp_;
  UniqueFd fd_;
};

}  // namespace mcore::engine
