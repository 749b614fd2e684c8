#pragma once
// Replacing a file so that readers and crashes see the old content or the new, never a mix: for the
// engine's records and indexes and for drivers' own state files (leases, credentials).
#include <sys/types.h>

#include <filesystem>
#include <cstdint>
#include <string_view>
#include <vector>

namespace mcore {

struct AtomicWriteOptions {
  mode_t mode = 0600;  // private by default: records hold secrets (-e, credentials)
  bool keep_owner = false;      // an existing file keeps its owner and group (root rewriting a user's file)
  bool sync_directory = false;  // also fsync the directory, so the rename itself survives a power cut
  // fsync the content before the rename. Runtime state that a reboot clears anyway (leases under the
  // state root) skips it: the rename alone keeps crashes from tearing it.
  bool sync_file = true;
};

// Writes `content` to a temporary file beside `path` (mode, write, fsync unless asked not to, close), then renames it over
// `path`. Throws Error naming the step that failed; the temporary file is removed, unless the process is
// killed first: then is_atomic_write_leftover() knows it by its name.
void write_file_atomic(const std::filesystem::path& path, std::string_view content,
                       const AtomicWriteOptions& options = {});

// The mkstemp(3) template of the temporary file beside `path`: "<dir>/.<name>.tmp-XXXXXX". Every atomic
// writer of the tree uses it, so that one test finds what a killed writer left.
std::string atomic_write_temp_template(const std::filesystem::path& path);

// True for a file name that atomic_write_temp_template() makes. The owner of a directory deletes such
// files only while no writer of that directory runs (under its lock).
bool is_atomic_write_leftover(std::string_view file_name);

struct RemovedLeftover {
  std::filesystem::path path;
  std::uintmax_t size = 0;
};
// Deletes the leftovers of killed atomic writes in `dir` (not below it). Call holding the lock that
// every writer of `dir` holds, so that no write in progress loses its file. A missing `dir` is empty.
std::vector<RemovedLeftover> remove_atomic_write_leftovers(const std::filesystem::path& dir);

}  // namespace mcore
