#include "mcore/fd_io.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "mcore/error.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore {

bool write_all(int fd, std::string_view bytes) noexcept {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

UniqueFd memory_file(const char* name, std::string_view bytes) {
  UniqueFd file(::memfd_create(name, MFD_CLOEXEC));
  if (!file) throw Error::from_errno(std::string("create a memory file for ") + name);
  if (!write_all(file.get(), bytes) || ::lseek(file.get(), 0, SEEK_SET) != 0) {
    throw Error::from_errno(std::string("fill the memory file for ") + name);
  }
  return file;
}

std::string read_to_end(int fd, const std::string& what) {
  std::string content;
  char buffer[8192];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("read " + what);
    }
    if (got == 0) return content;
    content.append(buffer, static_cast<std::size_t>(got));
  }
}

std::optional<std::string> read_file_if_exists(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw Error::from_errno("open " + path.string());
  }
  // No fstat size: files under /proc and /sys report 0 and must be read to EOF.
  return read_to_end(fd.get(), path.string());
}

std::string read_file(const std::filesystem::path& path) {
  auto content = read_file_if_exists(path);
  if (!content) {
    errno = ENOENT;
    throw Error::from_errno("open " + path.string());
  }
  return std::move(*content);
}

void write_knob(const std::filesystem::path& path, std::string_view content) {
  // Kernel knobs often take "value\n"; the newline only clutters the message.
  std::string_view shown = content;
  while (!shown.empty() && shown.back() == '\n') shown.remove_suffix(1);
  const std::string what = "write " + std::string(shown) + " to " + path.string();

  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) throw Error::from_errno(what);
  ssize_t written;
  do {
    written = ::write(fd.get(), content.data(), content.size());
  } while (written < 0 && errno == EINTR);
  if (written < 0) throw Error::from_errno(what);
  if (static_cast<std::size_t>(written) != content.size()) {
    throw Error(what + ": short write (" + std::to_string(written) + " of " + std::to_string(content.size()) +
                " bytes)");
  }
}

}  // namespace mcore
