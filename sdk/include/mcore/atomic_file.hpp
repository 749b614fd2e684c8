#pragma once
// Replacing a file so that readers and crashes see the old content or the new, never a mix: for the
// engine's records and indexes and for drivers' own state files (leases, credentials).
#include <sys/types.h>

#include <filesystem>
#include <string_view>

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
// `path`. Throws Error naming the step that failed; the temporary file never remains.
void write_file_atomic(const std::filesystem::path& path, std::string_view content,
                       const AtomicWriteOptions& options = {});

}  // namespace mcore
