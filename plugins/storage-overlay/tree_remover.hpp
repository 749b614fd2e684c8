#pragma once
// File-descriptor helpers shared by the container and layer code of the overlay driver: every path below
// the storage root is walked without following symlinks and without crossing into mounts.
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "mcore/unique_fd.hpp"

namespace mcore::overlay {

// A directory's type, mode and device, without following a symlink. Throws Error.
struct statx stat_dir(int fd, const std::filesystem::path& shown);

// Whether `stx` (a directory) is a mount point below `parent`.
bool is_mount_point(const struct statx& stx, const struct statx& parent);

[[noreturn]] void refuse_mount_point(const std::filesystem::path& shown);

// Opens directory entry `name` of `parent_fd` without following symlinks. Returns -1 with errno ENOTDIR,
// ELOOP or ENOENT when it is not a directory or missing; throws Error otherwise. A directory we may not
// read is made ours first: callers only open what they are about to delete.
int open_dir_at(int parent_fd, const char* name, const std::filesystem::path& shown);

// Deletes everything inside the open directory `dir_fd` (shown as `shown` in errors), never following a
// symlink and refusing to cross into a mount.
void empty_tree(int dir_fd, const std::filesystem::path& shown);

// Deletes entry `name` of `parent_fd` and, when it is a directory, everything below it. A missing entry
// is not an error.
void remove_tree_at(int parent_fd, const std::string& name, const std::filesystem::path& shown);

}  // namespace mcore::overlay
