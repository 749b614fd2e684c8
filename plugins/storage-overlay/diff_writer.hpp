#pragma once
// Exports a container's writable layer (overlay's upper directory) as an image layer, the reverse of
// layer_unpacker: overlay's whiteouts (0:0 character devices) become ".wh.NAME" entries and opaque
// directories a ".wh..wh..opq" entry, the form apply_layer and every registry understand.
#include <filesystem>

#include <spdlog/logger.h>

#include "mcore/io.hpp"

namespace mcore::overlay {

// Writes everything below the directory `upper_fd` (shown as `shown` in errors) to `tar_out` as an
// uncompressed tar, each directory's entries in name order, so an unchanged tree always gives the same
// bytes. Keeps owners, modes, modification times, hardlinks and the extended attributes an image may
// carry (layer_paths.hpp). Sockets and device nodes are left out (a warning names each device), as
// apply_layer would refuse them. Throws Error for what overlay keeps outside the upper directory
// (renamed directories with redirect_dir, metacopy files) and for I/O failures.
void write_upper_diff(int upper_fd, const std::filesystem::path& shown, ByteSink& tar_out,
                      spdlog::logger& logger);

}  // namespace mcore::overlay
