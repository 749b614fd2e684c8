// Why not archive_write_disk: its SECURE_* checks lstat path strings, it writes every xattr and every
// device node it is given, and it knows nothing of overlay whiteouts. Here every parent directory is
// resolved by the kernel with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so no entry is ever written
// through a symlink or outside the layer, and each entry is created with O_EXCL/mkdirat/symlinkat/linkat
// relative to that descriptor.
#include "layer_unpacker.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <linux/openat2.h>

#include "layer_paths.hpp"
#include "mcore/error.hpp"
#include "tree_remover.hpp"

namespace mcore::overlay {
namespace fs = std::filesystem;

namespace {

constexpr const char* kRefusedHint = "the layer archive is malformed or malicious; nothing of it was stored";

[[noreturn]] void refuse(const std::string& why) { throw Error(why, 0, kRefusedHint); }

std::string join(const std::vector<std::string>& parts, std::size_t count) {
  std::string joined;
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) joined += '/';
    joined += parts[i];
  }
  return joined;
}

// openat2 beneath `root_fd` without symlinks (magic or not) or mount crossings. -1 and errno on failure.
int open_beneath(int root_fd, const std::string& relative, int flags) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  for (;;) {
    const long fd =
        ::syscall(SYS_openat2, root_fd, relative.empty() ? "." : relative.c_str(), &how, sizeof how);
    // EAGAIN: a concurrent rename raced the lookup; nothing else renames inside our directory, so retry.
    if (fd >= 0 || errno != EAGAIN) return static_cast<int>(fd);
  }
}

struct ReadContext {
  ByteSource* source;
  std::vector<std::byte> buffer;
  std::exception_ptr failure;  // the source's own Error, rethrown instead of libarchive's text
};

la_ssize_t read_callback(archive* reader, void* client, const void** block) {
  auto* context = static_cast<ReadContext*>(client);
  try {
    const std::size_t n = context->source->read(context->buffer);
    *block = context->buffer.data();
    return static_cast<la_ssize_t>(n);
  } catch (...) {
    context->failure = std::current_exception();
    archive_set_error(reader, EIO, "reading the layer stream failed");
    return -1;
  }
}

struct ArchiveFree {
  void operator()(archive* reader) const noexcept { archive_read_free(reader); }
};

[[noreturn]] void archive_failed(archive* reader, const ReadContext& context, const std::string& step) {
  if (context.failure) std::rethrow_exception(context.failure);
  const char* text = archive_error_string(reader);
  throw Error(step + ": " + (text != nullptr ? text : "unknown libarchive error"), 0,
              "the layer is not a valid tar archive or it is truncated");
}

// The process's umask, from /proc (umask(2) cannot read it without changing it for every thread);
// nullopt when unknown.
std::optional<mode_t> current_umask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!line.starts_with("Umask:")) continue;
    char* end = nullptr;
    const unsigned long mask = std::strtoul(line.c_str() + 6, &end, 8);
    if (end != line.c_str() + 6 && mask <= 0777) return static_cast<mode_t>(mask);
  }
  return std::nullopt;
}

class Unpacker {
 public:
  Unpacker(archive* reader, const ReadContext& context, int root_fd, fs::path shown,
           const std::string& opaque_attribute)
      : reader_(reader),
        opaque_attribute_(opaque_attribute),
        context_(context),
        root_fd_(root_fd),
        shown_(std::move(shown)),
        uid_(::geteuid()),
        gid_(::getegid()) {
    // Directory modes are set at the end (finish), so only a set-group-id root can make what we create
    // inherit another group, and only the root's default ACL can stand in for the umask below it.
    struct stat st {};
    inherits_group_ = ::fstat(root_fd_, &st) != 0 || (st.st_mode & S_ISGID) != 0;
    if (::fgetxattr(root_fd_, "system.posix_acl_default", nullptr, 0) < 0 &&
        (errno == ENODATA || errno == EOPNOTSUPP)) {
      umask_ = current_umask();
    }
  }

  void unpack(archive_entry* entry) {
    const char* raw_name = archive_entry_pathname(entry);
    if (raw_name == nullptr) refuse("has no name");
    const std::vector<std::string> parts = entry_components(raw_name);
    const char* hardlink = archive_entry_hardlink(entry);
    const mode_t type = archive_entry_filetype(entry);
    if (parts.empty()) {
      if (hardlink != nullptr || type != AE_IFDIR) refuse("names the layer root but is not a directory");
      directory_metadata(root_fd_, entry, "");
      return;
    }
    const std::string& name = parts.back();
    const std::string relative = join(parts, parts.size());
    const WhiteoutName whiteout = classify_whiteout(name);
    if (whiteout.kind == WhiteoutName::Kind::internal) return;
    if (hardlink == nullptr && type == AE_IFSOCK) return;  // a socket is a live endpoint, not content

    const int parent = open_parent(parts);
    if (whiteout.kind == WhiteoutName::Kind::opaque) {
      if (::fsetxattr(parent, opaque_attribute_.c_str(), "y", 1, 0) != 0) {
        throw Error::from_errno("mark " + (shown_ / join(parts, parts.size() - 1)).string() + " opaque (" +
                                    opaque_attribute_ + ")",
                                "unpacking opaque directories needs root, or a user namespace's root "
                                "(user.* extended attributes)");
      }
      return;
    }
    if (whiteout.kind == WhiteoutName::Kind::whiteout) {
      make_whiteout(parent, whiteout.target, entry, join(parts, parts.size() - 1));
      return;
    }
    if (hardlink != nullptr) {
      make_hardlink(parent, name, relative, hardlink);
      return;
    }
    switch (type) {
      case AE_IFREG: write_file(parent, name, relative, entry); break;
      case AE_IFDIR: make_directory(parent, name, relative, entry); break;
      case AE_IFLNK: make_symlink(parent, name, relative, entry); break;
      case AE_IFIFO: make_fifo(parent, name, relative, entry); break;
      case AE_IFCHR:
      case AE_IFBLK: make_device(parent, name, relative, entry); break;
      default: refuse("has an unsupported file type");
    }
  }

  // Directory modes and times last: files created inside would change the times, and a read-only
  // directory would stop an unprivileged unpack from filling it.
  void finish() {
    for (const auto& dir : deferred_dirs_) {
      UniqueFd fd(open_beneath(root_fd_, dir.relative, O_RDONLY | O_DIRECTORY));
      if (fd.get() < 0) continue;  // replaced by a later entry
      if (::fchmod(fd.get(), dir.mode) != 0) throw Error::from_errno("chmod " + shown(dir.relative));
      if (::futimens(fd.get(), dir.times.data()) != 0) {
        throw Error::from_errno("set times of " + shown(dir.relative));
      }
    }
  }

  std::uint64_t bytes() const { return bytes_; }
  std::vector<std::string> skipped_devices() const { return skipped_devices_; }

 private:
  struct DeferredDir {
    std::string relative;
    mode_t mode;
    std::array<timespec, 2> times;
  };

  std::string shown(const std::string& relative) const { return (shown_ / relative).string(); }

  // The entry's parent directory, created (0755, like Docker) when the archive did not list it. The
  // last one stays open: archives list a directory's entries together.
  int open_parent(const std::vector<std::string>& parts) {
    const std::size_t count = parts.size() - 1;
    if (count == 0) return root_fd_;
    const std::string relative = join(parts, count);
    if (cached_fd_.get() >= 0 && relative == cached_path_) return cached_fd_.get();
    int fd = open_beneath(root_fd_, relative, O_RDONLY | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) fd = create_parents(parts, count);
    if (fd < 0) refuse_lookup(relative);
    cached_fd_.reset(fd);
    cached_path_ = relative;
    return fd;
  }

  int create_parents(const std::vector<std::string>& parts, std::size_t count) {
    UniqueFd current(open_beneath(root_fd_, "", O_RDONLY | O_DIRECTORY));
    for (std::size_t i = 0; i < count && current.get() >= 0; ++i) {
      if (::mkdirat(current.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
        throw Error::from_errno("create directory " + shown(join(parts, i + 1)));
      }
      current.reset(open_beneath(current.get(), parts[i], O_RDONLY | O_DIRECTORY));
    }
    return current.release();
  }

  [[noreturn]] void refuse_lookup(const std::string& relative) {
    const int err = errno;
    if (err == ELOOP || err == EXDEV) refuse("passes through a symlink (\"" + relative + "\")");
    if (err == ENOTDIR) refuse("passes through \"" + relative + "\", which is not a directory");
    throw Error("open " + shown(relative), err);
  }

  // Clears the way for a new entry. Returns true when a directory is there and `keep_directory` asks
  // to reuse it (an archive may list a directory twice).
  bool clear_entry(int parent, const std::string& name, const std::string& relative, bool keep_directory) {
    struct stat st {};
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return false;
      throw Error::from_errno("stat " + shown(relative));
    }
    if (S_ISDIR(st.st_mode)) {
      if (keep_directory) return true;
      // The cached parent may be this directory or one below it (never `parent`, which stays open).
      if (cached_path_ == relative || cached_path_.starts_with(relative + "/")) {
        cached_fd_.reset();
        cached_path_.clear();
      }
      remove_tree_at(parent, name, shown_ / relative);
      return false;
    }
    if (::unlinkat(parent, name.c_str(), 0) != 0) throw Error::from_errno("replace " + shown(relative));
    return false;
  }

  // Runs `create`, a *at(2) call; when the name is taken (by an earlier entry of this layer), clears it
  // and runs `create` once more. Trying first saves a stat per entry: names are almost always new.
  template <class Create>
  int create_replacing(int parent, const std::string& name, const std::string& relative, Create create) {
    int rc = create();
    if (rc < 0 && errno == EEXIST) {
      clear_entry(parent, name, relative, false);
      rc = create();
    }
    return rc;
  }

  // Whether what we create already has the entry's owner (true for nearly every entry when root unpacks).
  bool owned_as_created(archive_entry* entry) const {
    return !inherits_group_ && static_cast<uid_t>(archive_entry_uid(entry)) == uid_ &&
           static_cast<gid_t>(archive_entry_gid(entry)) == gid_;
  }

  void set_owner(int fd, const char* name, archive_entry* entry, const std::string& relative) {
    if (owned_as_created(entry)) return;
    const auto uid = static_cast<uid_t>(archive_entry_uid(entry));
    const auto gid = static_cast<gid_t>(archive_entry_gid(entry));
    const int rc =
        name == nullptr ? ::fchown(fd, uid, gid) : ::fchownat(fd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
    // Without root the files stay ours, as with an unprivileged tar -x.
    if (rc != 0 && !(errno == EPERM && uid_ != 0)) throw Error::from_errno("chown " + shown(relative));
  }

  void set_xattrs(int fd, archive_entry* entry, const std::string& relative) {
    archive_entry_xattr_reset(entry);
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
      if (!keep_xattr(name)) continue;
      if (::fsetxattr(fd, name, value, size, 0) != 0) {
        throw Error::from_errno("set extended attribute " + std::string(name) + " on " + shown(relative));
      }
    }
  }

  static std::array<timespec, 2> times_of(archive_entry* entry) {
    if (archive_entry_mtime_is_set(entry) == 0) return {timespec{0, UTIME_OMIT}, timespec{0, UTIME_OMIT}};
    const timespec mtime{archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)};
    const timespec atime = archive_entry_atime_is_set(entry) != 0
                               ? timespec{archive_entry_atime(entry), archive_entry_atime_nsec(entry)}
                               : mtime;
    return {atime, mtime};
  }

  void set_times_at(int parent, const std::string& name, archive_entry* entry, const std::string& relative) {
    const auto times = times_of(entry);
    if (::utimensat(parent, name.c_str(), times.data(), AT_SYMLINK_NOFOLLOW) != 0) {
      throw Error::from_errno("set times of " + shown(relative));
    }
  }

  void write_file(int parent, const std::string& name, const std::string& relative, archive_entry* entry) {
    const mode_t mode = archive_entry_perm(entry);
    // Created with its final mode unless the umask would mask it or a chown (which clears set-id bits)
    // must come first.
    const bool final_mode =
        owned_as_created(entry) && (mode & ~mode_t{0777}) == 0 && umask_ && (mode & *umask_) == 0;
    UniqueFd fd(create_replacing(parent, name, relative, [&] {
      return ::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      final_mode ? mode : 0600);
    }));
    if (fd.get() < 0) throw Error::from_errno("create " + shown(relative));
    la_int64_t end = 0;  // of the data written
    for (;;) {
      const void* block = nullptr;
      std::size_t size = 0;
      la_int64_t offset = 0;
      const int rc = archive_read_data_block(reader_, &block, &size, &offset);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) {
        archive_failed(reader_, context_, "read " + relative + " from the layer archive");
      }
      const auto* bytes = static_cast<const char*>(block);
      end = std::max(end, offset + static_cast<la_int64_t>(size));
      while (size > 0) {  // offsets leave holes for sparse files
        const ssize_t written = ::pwrite(fd.get(), bytes, size, offset);
        if (written < 0) {
          if (errno == EINTR) continue;
          throw Error::from_errno("write " + shown(relative));
        }
        bytes += written;
        size -= static_cast<std::size_t>(written);
        offset += written;
      }
    }
    const la_int64_t size = archive_entry_size(entry);
    if (archive_entry_size_is_set(entry) != 0 && size != end && ::ftruncate(fd.get(), size) != 0) {
      throw Error::from_errno("truncate " + shown(relative));  // a trailing hole
    }
    bytes_ += static_cast<std::uint64_t>(size);
    // chown clears set-id bits and file capabilities, so it goes first.
    set_owner(fd.get(), nullptr, entry, relative);
    set_xattrs(fd.get(), entry, relative);
    if (!final_mode && ::fchmod(fd.get(), mode) != 0) throw Error::from_errno("chmod " + shown(relative));
    const auto times = times_of(entry);
    if (::futimens(fd.get(), times.data()) != 0) throw Error::from_errno("set times of " + shown(relative));
  }

  void make_directory(int parent, const std::string& name, const std::string& relative,
                      archive_entry* entry) {
    // A directory listed twice is kept; anything else in the way is replaced.
    if (::mkdirat(parent, name.c_str(), 0700) != 0 &&
        (errno != EEXIST ||
         (!clear_entry(parent, name, relative, true) && ::mkdirat(parent, name.c_str(), 0700) != 0))) {
      throw Error::from_errno("create directory " + shown(relative));
    }
    if (owned_as_created(entry) && archive_entry_xattr_count(entry) == 0) {  // only mode and times, later
      deferred_dirs_.push_back({relative, archive_entry_perm(entry), times_of(entry)});
      return;
    }
    UniqueFd fd(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) throw Error::from_errno("open " + shown(relative));
    directory_metadata(fd.get(), entry, relative);
  }

  void directory_metadata(int fd, archive_entry* entry, const std::string& relative) {
    set_owner(fd, nullptr, entry, relative);
    set_xattrs(fd, entry, relative);
    deferred_dirs_.push_back({relative, archive_entry_perm(entry), times_of(entry)});
  }

  void make_symlink(int parent, const std::string& name, const std::string& relative, archive_entry* entry) {
    const char* target = archive_entry_symlink(entry);
    if (target == nullptr) refuse("is a symlink without a target");
    // Any target is fine: the link is stored, never followed while unpacking.
    if (create_replacing(parent, name, relative, [&] { return ::symlinkat(target, parent, name.c_str()); }) !=
        0) {
      throw Error::from_errno("create symlink " + shown(relative));
    }
    set_owner(parent, name.c_str(), entry, relative);
    set_times_at(parent, name, entry, relative);
  }

  void make_fifo(int parent, const std::string& name, const std::string& relative, archive_entry* entry) {
    if (create_replacing(parent, name, relative,
                         [&] { return ::mknodat(parent, name.c_str(), S_IFIFO | 0600, 0); }) != 0) {
      throw Error::from_errno("create fifo " + shown(relative));
    }
    set_owner(parent, name.c_str(), entry, relative);
    // Not a symlink (we just made it), and nobody else writes in the private temporary directory.
    if (::fchmodat(parent, name.c_str(), archive_entry_perm(entry), 0) != 0) {
      throw Error::from_errno("chmod " + shown(relative));
    }
    set_times_at(parent, name, entry, relative);
  }

  // A device node (a 0:0 character device is an overlay whiteout, made the same way). A layer with
  // /dev/console (every debootstrap-built image) must unpack; where mknod is not permitted (no
  // CAP_MKNOD) the node is skipped and said so, as containerd does, but a whiteout cannot be skipped.
  void make_device(int parent, const std::string& name, const std::string& relative, archive_entry* entry) {
    const mode_t type = archive_entry_filetype(entry) == AE_IFBLK ? S_IFBLK : S_IFCHR;
    const unsigned major = archive_entry_rdevmajor(entry), minor = archive_entry_rdevminor(entry);
    if (create_replacing(parent, name, relative, [&] {
          return ::mknodat(parent, name.c_str(), type | 0600, ::makedev(major, minor));
        }) != 0) {
      if (errno == EPERM && (major != 0 || minor != 0)) {
        skipped_devices_.push_back(shown(relative) + " (" + (type == S_IFBLK ? "block" : "character") + " device " +
                                   std::to_string(major) + ":" + std::to_string(minor) + ")");
        return;
      }
      throw Error::from_errno("create device node " + shown(relative),
                              "unpacking device nodes and whiteouts needs root (CAP_MKNOD)");
    }
    set_owner(parent, name.c_str(), entry, relative);
    // Not a symlink (we just made it), and nobody else writes in the private temporary directory.
    if (::fchmodat(parent, name.c_str(), archive_entry_perm(entry), 0) != 0) {
      throw Error::from_errno("chmod " + shown(relative));
    }
    set_times_at(parent, name, entry, relative);
  }

  // Overlay's whiteout: a 0:0 character device named like the file it deletes.
  void make_whiteout(int parent, const std::string& name, archive_entry* entry, const std::string& dir) {
    const std::string relative = dir.empty() ? name : dir + "/" + name;
    if (create_replacing(parent, name, relative,
                         [&] { return ::mknodat(parent, name.c_str(), S_IFCHR, ::makedev(0, 0)); }) != 0) {
      throw Error::from_errno("create whiteout " + shown(relative),
                              "unpacking layers with whiteouts needs root (CAP_MKNOD)");
    }
    set_owner(parent, name.c_str(), entry, relative);
  }

  void make_hardlink(int parent, const std::string& name, const std::string& relative, const char* target) {
    std::vector<std::string> target_parts;
    try {
      target_parts = entry_components(target);
    } catch (const Error& error) {
      refuse(std::string("is a hardlink to \"") + target + "\", which " + error.what());
    }
    const std::string target_relative = join(target_parts, target_parts.size());
    if (target_parts.empty() || target_relative == relative) {
      refuse(std::string("is a hardlink to \"") + target + "\", which is not a file");
    }
    UniqueFd target_dir(
        open_beneath(root_fd_, join(target_parts, target_parts.size() - 1), O_RDONLY | O_DIRECTORY));
    struct stat st {};
    if (target_dir.get() < 0 ||
        ::fstatat(target_dir.get(), target_parts.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) {
        refuse(std::string("is a hardlink to \"") + target + "\", which is not (yet) in this layer");
      }
      refuse_lookup(target_relative);
    }
    if (S_ISDIR(st.st_mode)) refuse(std::string("is a hardlink to the directory \"") + target + "\"");
    // Flags 0: a symlink target is linked itself, never followed.
    if (create_replacing(parent, name, relative, [&] {
          return ::linkat(target_dir.get(), target_parts.back().c_str(), parent, name.c_str(), 0);
        }) != 0) {
      throw Error::from_errno("create hardlink " + shown(relative));
    }
  }

  archive* reader_;
  std::string opaque_attribute_;
  const ReadContext& context_;
  int root_fd_;
  fs::path shown_;
  uid_t uid_;
  gid_t gid_;
  std::optional<mode_t> umask_;  // nullopt: creation modes are unpredictable, chmod every file
  bool inherits_group_ = true;
  UniqueFd cached_fd_;
  std::string cached_path_;
  std::vector<DeferredDir> deferred_dirs_;
  std::uint64_t bytes_ = 0;
  std::vector<std::string> skipped_devices_;
};

}  // namespace

UnpackResult unpack_layer(ByteSource& tar_stream, int root_fd, const fs::path& shown,
                          const std::string& opaque_attribute) {
  std::unique_ptr<archive, ArchiveFree> reader(archive_read_new());
  if (!reader) throw Error("create a tar reader", ENOMEM);
  // tar covers ustar, pax and GNU tar; empty accepts a zero-byte layer.
  archive_read_support_format_tar(reader.get());
  archive_read_support_format_gnutar(reader.get());
  archive_read_support_format_empty(reader.get());
  ReadContext context{&tar_stream, std::vector<std::byte>(std::size_t{1} << 17), nullptr};
  if (archive_read_open(reader.get(), &context, nullptr, read_callback, nullptr) != ARCHIVE_OK) {
    archive_failed(reader.get(), context, "open the layer archive");
  }
  Unpacker unpacker(reader.get(), context, root_fd, shown, opaque_attribute);
  for (;;) {
    archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(reader.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) archive_failed(reader.get(), context, "read the layer archive");
    const char* name = archive_entry_pathname(entry);
    try {
      unpacker.unpack(entry);
    } catch (Error& error) {
      error.add_context(std::string("entry \"") + (name != nullptr ? name : "") + "\"");
      if (error.error_number() == 0 && error.hint().empty()) error.set_hint(kRefusedHint);
      throw;
    }
  }
  unpacker.finish();
  // The caller hashes the stream as we read it: the end-of-archive padding must pass through too.
  while (tar_stream.read(context.buffer) != 0) {
  }
  return {unpacker.bytes(), unpacker.skipped_devices()};
}

}  // namespace mcore::overlay
