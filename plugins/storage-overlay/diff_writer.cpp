// Every file is opened relative to its parent's descriptor with O_NOFOLLOW, so a container that swaps a
// directory for a symlink while it is exported cannot make us read host files.
#include "diff_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "layer_paths.hpp"
#include "mcore/error.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::overlay {
namespace fs = std::filesystem;

namespace {

// overlay's own attributes: "trusted.overlay.NAME", or "user.overlay.NAME" when mounted with userxattr.
std::optional<std::string> overlay_attribute(int fd, const char* name) {
  for (const char* prefix : {"trusted.overlay.", "user.overlay."}) {
    const std::string key = std::string(prefix) + name;
    char value[256];
    const ssize_t size = ::fgetxattr(fd, key.c_str(), value, sizeof value);
    if (size >= 0) return std::string(value, static_cast<std::size_t>(size));
    if (errno == ERANGE) return std::string();  // present, and long: only presence matters then
  }
  return std::nullopt;
}

// The names in a directory, sorted. Reads through a duplicate: closedir closes the descriptor it gets.
std::vector<std::string> sorted_names(int dir_fd, const std::string& shown) {
  const int fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) throw Error::from_errno("list " + shown);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    ::close(fd);
    throw Error("list " + shown, err);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, ::closedir);
  ::rewinddir(dir);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  if (errno != 0) throw Error::from_errno("list " + shown);
  std::sort(names.begin(), names.end());
  return names;
}

struct SinkContext {
  ByteSink* sink;  // null once the archive was abandoned: its end-of-archive blocks must not follow
  std::exception_ptr failure;
};

la_ssize_t write_callback(archive* writer, void* client, const void* buffer, std::size_t length) {
  auto* context = static_cast<SinkContext*>(client);
  if (context->sink == nullptr) {
    archive_set_error(writer, EIO, "the layer archive was abandoned");
    return -1;
  }
  try {
    context->sink->write(std::span(static_cast<const std::byte*>(buffer), length));
    return static_cast<la_ssize_t>(length);
  } catch (...) {
    context->failure = std::current_exception();
    archive_set_error(writer, EIO, "writing the layer stream failed");
    return -1;
  }
}

struct EntryFree {
  void operator()(archive_entry* entry) const noexcept { archive_entry_free(entry); }
};
using Entry = std::unique_ptr<archive_entry, EntryFree>;

// A tar header for `path` with the owner, permissions and (whole-second) modification time of `st`.
Entry new_entry(const std::string& path, const struct stat& st, mode_t type) {
  Entry entry(archive_entry_new());
  if (!entry) throw Error("create a tar entry", ENOMEM);
  archive_entry_set_pathname(entry.get(), path.c_str());
  archive_entry_set_filetype(entry.get(), type);
  archive_entry_set_perm(entry.get(), st.st_mode & 07777);
  archive_entry_set_uid(entry.get(), st.st_uid);
  archive_entry_set_gid(entry.get(), st.st_gid);
  // Seconds only: the same tree then gives the same archive whichever tar dialect the header needs.
  archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, 0);
  archive_entry_set_size(entry.get(), 0);
  return entry;
}

class DiffWriter {
 public:
  DiffWriter(ByteSink& sink, fs::path shown, spdlog::logger& logger)
      : context_{&sink, nullptr}, archive_(archive_write_new()), shown_(std::move(shown)), logger_(logger) {
    if (archive_ == nullptr) throw Error("create a tar writer", ENOMEM);
    // ustar headers, pax records only where ustar cannot say it (long names, xattrs); no padding after
    // the end-of-archive blocks, so an empty diff is the 1024 zero bytes of every empty layer.
    if (archive_write_set_format_pax_restricted(archive_) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(archive_, 1) != ARCHIVE_OK ||
        archive_write_open(archive_, &context_, nullptr, write_callback, nullptr) != ARCHIVE_OK) {
      fail("start the layer archive");
    }
  }
  DiffWriter(const DiffWriter&) = delete;
  DiffWriter& operator=(const DiffWriter&) = delete;
  ~DiffWriter() {
    if (!finished_) context_.sink = nullptr;  // free() closes, and closing writes the end blocks
    archive_write_free(archive_);
  }

  // The entries below the directory `dir_fd`, whose path in the archive is `prefix` ("" or "a/b/").
  void write_tree(int dir_fd, const std::string& prefix) {
    for (const auto& name : sorted_names(dir_fd, shown(prefix))) {
      write_entry(dir_fd, name, prefix + name);
    }
  }

  void finish() {
    if (archive_write_close(archive_) != ARCHIVE_OK) fail("finish the layer archive");
    finished_ = true;
  }

 private:
  std::string shown(const std::string& path) const { return (shown_ / path).string(); }

  [[noreturn]] void fail(const std::string& step) {
    context_.sink = nullptr;
    if (context_.failure) std::rethrow_exception(context_.failure);
    const char* text = archive_error_string(archive_);
    throw Error(step + ": " + (text != nullptr ? text : "unknown libarchive error"));
  }

  void write_header(archive_entry* entry, const std::string& path) {
    // ARCHIVE_WARN: a name that is not UTF-8, stored as its bytes (pax hdrcharset=BINARY).
    if (archive_write_header(archive_, entry) < ARCHIVE_WARN) fail("add " + path + " to the layer archive");
  }

  void write_entry(int dir_fd, const std::string& name, const std::string& path) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return;  // deleted meanwhile (commit --pause=false)
      throw Error::from_errno("stat " + shown(path));
    }
    if (S_ISCHR(st.st_mode) && st.st_rdev == 0) {
      write_marker(path.substr(0, path.size() - name.size()) + ".wh." + name, st);
      return;
    }
    if (S_ISDIR(st.st_mode)) {
      write_directory(dir_fd, name, path, st);
      return;
    }
    if (S_ISSOCK(st.st_mode)) return;  // a live endpoint, not content
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      logger_.warn("{} is a device node, which image layers may not carry: left out of the diff",
                   shown(path));
      return;
    }
    if (st.st_nlink > 1 && write_repeated_link(path, st)) return;
    bool written = true;
    if (S_ISREG(st.st_mode)) {
      written = write_file(dir_fd, name, path, st);
    } else if (S_ISLNK(st.st_mode)) {
      write_symlink(dir_fd, name, path, st);
    } else if (S_ISFIFO(st.st_mode)) {
      write_header(new_entry(path, st, AE_IFIFO).get(), path);
    }
    if (written && st.st_nlink > 1) first_names_.emplace(std::pair{st.st_dev, st.st_ino}, path);
  }

  // ".wh.NAME" and ".wh..wh..opq": empty regular files carrying the owner of what they stand for.
  void write_marker(const std::string& path, const struct stat& st) {
    struct stat marker = st;
    marker.st_mode = S_IFREG | 0600;
    write_header(new_entry(path, marker, AE_IFREG).get(), path);
  }

  // A later name of a file already written becomes a hardlink to the first. Returns whether it was one.
  bool write_repeated_link(const std::string& path, const struct stat& st) {
    const auto first = first_names_.find({st.st_dev, st.st_ino});
    if (first == first_names_.end()) return false;
    Entry entry = new_entry(path, st, st.st_mode & S_IFMT);
    archive_entry_set_hardlink(entry.get(), first->second.c_str());
    write_header(entry.get(), path);
    return true;
  }

  // `name` below `parent_fd`, opened for reading without following a symlink; an empty descriptor when
  // it was deleted meanwhile.
  UniqueFd open_entry(int parent_fd, const std::string& name, int flags, const std::string& path) const {
    UniqueFd fd(::openat(parent_fd, name.c_str(), flags | O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0 && errno != ENOENT) throw Error::from_errno("open " + shown(path));
    return fd;
  }

  // Refuses an entry that overlay marked with `attribute`: its content stays in the image's layers, where
  // a diff cannot point.
  void refuse_if_marked(int fd, const char* attribute, const std::string& path, const std::string& how,
                        const std::string& mount_option) const {
    if (!overlay_attribute(fd, attribute)) return;
    throw Error(shown(path) + " " + how + ", which keeps its content in the image's layers", 0,
                "remove " + mount_option +
                    " from storage.mount_options; a container started without it can be committed");
  }

  void write_directory(int parent_fd, const std::string& name, const std::string& path,
                       const struct stat& st) {
    const UniqueFd fd = open_entry(parent_fd, name, O_DIRECTORY, path);
    if (fd.get() < 0) return;
    refuse_if_marked(fd.get(), "redirect", path, "was renamed with overlay's redirect_dir",
                     "redirect_dir=on");
    Entry entry = new_entry(path, st, AE_IFDIR);
    add_xattrs(fd.get(), entry.get(), path);
    write_header(entry.get(), path);
    // "x" (Linux 6.7) marks a directory holding xwhiteouts, not an opaque one.
    if (overlay_attribute(fd.get(), "opaque") == "y") write_marker(path + "/.wh..wh..opq", st);
    write_tree(fd.get(), path + "/");
  }

  // Returns false when the file was deleted before it could be opened.
  bool write_file(int parent_fd, const std::string& name, const std::string& path, const struct stat& st) {
    const UniqueFd fd = open_entry(parent_fd, name, O_NOCTTY, path);
    if (fd.get() < 0) return false;
    refuse_if_marked(fd.get(), "metacopy", path, "was copied up with overlay's metacopy", "metacopy=on");
    Entry entry = new_entry(path, st, AE_IFREG);
    archive_entry_set_size(entry.get(), st.st_size);
    add_xattrs(fd.get(), entry.get(), path);
    write_header(entry.get(), path);
    // Exactly the size in the header: libarchive pads a file that shrank meanwhile with zeros.
    std::vector<char> buffer(std::size_t{1} << 17);
    for (auto left = static_cast<std::uint64_t>(st.st_size); left > 0;) {
      const ssize_t got = ::read(fd.get(), buffer.data(), std::min<std::uint64_t>(left, buffer.size()));
      if (got < 0) {
        if (errno == EINTR) continue;
        throw Error::from_errno("read " + shown(path));
      }
      if (got == 0) break;
      if (archive_write_data(archive_, buffer.data(), static_cast<std::size_t>(got)) != got) {
        fail("write " + path + " to the layer archive");
      }
      left -= static_cast<std::uint64_t>(got);
    }
    return true;
  }

  void write_symlink(int parent_fd, const std::string& name, const std::string& path, const struct stat& st) {
    std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
    const ssize_t size = ::readlinkat(parent_fd, name.c_str(), target.data(), target.size());
    if (size < 0) throw Error::from_errno("read link " + shown(path));
    target.resize(static_cast<std::size_t>(size));
    Entry entry = new_entry(path, st, AE_IFLNK);
    archive_entry_set_symlink(entry.get(), target.c_str());
    write_header(entry.get(), path);
  }

  // The extended attributes an image may carry (keep_xattr); overlay's own stay behind.
  void add_xattrs(int fd, archive_entry* entry, const std::string& path) const {
    const ssize_t list_size = ::flistxattr(fd, nullptr, 0);
    if (list_size <= 0) {
      if (list_size < 0 && errno != ENOTSUP)
        throw Error::from_errno("list extended attributes of " + shown(path));
      return;
    }
    std::string names(static_cast<std::size_t>(list_size), '\0');
    const ssize_t got = ::flistxattr(fd, names.data(), names.size());
    if (got < 0) throw Error::from_errno("list extended attributes of " + shown(path));
    names.resize(static_cast<std::size_t>(got));
    for (std::size_t start = 0; start < names.size();) {
      const std::string name = names.c_str() + start;
      start += name.size() + 1;
      if (!keep_xattr(name)) continue;
      const ssize_t size = ::fgetxattr(fd, name.c_str(), nullptr, 0);
      if (size < 0) throw Error::from_errno("read extended attribute " + name + " of " + shown(path));
      std::string value(static_cast<std::size_t>(size), '\0');
      const ssize_t read = ::fgetxattr(fd, name.c_str(), value.data(), value.size());
      if (read < 0) throw Error::from_errno("read extended attribute " + name + " of " + shown(path));
      archive_entry_xattr_add_entry(entry, name.c_str(), value.data(), static_cast<std::size_t>(read));
    }
  }

  SinkContext context_;
  archive* archive_;
  fs::path shown_;
  spdlog::logger& logger_;
  bool finished_ = false;
  std::map<std::pair<dev_t, ino_t>, std::string> first_names_;  // of files with more than one link
};

}  // namespace

void write_upper_diff(int upper_fd, const fs::path& shown, ByteSink& tar_out, spdlog::logger& logger) {
  DiffWriter writer(tar_out, shown, logger);
  writer.write_tree(upper_fd, "");
  writer.finish();
}

}  // namespace mcore::overlay
