#include "engine/io/fd_stream.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "mcore/atomic_file.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

std::size_t read_some(int fd, std::span<std::byte> buffer, const std::string& what) {
  for (;;) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) throw Error::from_errno("read " + what);
  }
}

void write_all(int fd, std::span<const std::byte> bytes, const std::string& what) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("write " + what);
    }
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
}

}  // namespace

std::size_t FdSource::read(std::span<std::byte> buffer) { return read_some(fd_, buffer, what_); }

void FdSink::write(std::span<const std::byte> bytes) { write_all(fd_, bytes, what_); }

FileSource::FileSource(const std::filesystem::path& path)
    : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), what_(path.string()) {
  if (!fd_) throw Error::from_errno("open " + what_);
}

std::size_t FileSource::read(std::span<std::byte> buffer) { return read_some(fd_.get(), buffer, what_); }

AtomicFileSink::AtomicFileSink(std::filesystem::path path, int mode) : path_(std::move(path)) {
  const std::filesystem::path dir = path_.has_parent_path() ? path_.parent_path() : ".";
  std::string temp = atomic_write_temp_template(path_);
  fd_.reset(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd_)
    throw Error::from_errno("create a temporary file in " + dir.string(),
                            "check that the directory exists and is writable");
  temp_ = temp;
  if (::fchmod(fd_.get(), static_cast<mode_t>(mode)) != 0) throw Error::from_errno("chmod " + temp_.string());
}

AtomicFileSink::~AtomicFileSink() {
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFileSink::write(std::span<const std::byte> bytes) {
  if (!fd_) throw Error("write " + path_.string() + ": the file was already committed");
  write_all(fd_.get(), bytes, temp_.string());
}

void AtomicFileSink::commit() {
  if (::fsync(fd_.get()) != 0) throw Error::from_errno("fsync " + temp_.string());
  // close() can report a deferred write error (NFS); check it before the rename publishes the file.
  if (::close(fd_.release()) != 0) throw Error::from_errno("close " + temp_.string());
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    throw Error::from_errno("rename " + temp_.string() + " to " + path_.string());
  }
  temp_.clear();
}

}  // namespace mcore::engine
