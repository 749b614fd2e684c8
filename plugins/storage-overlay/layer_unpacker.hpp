#pragma once
// Unpacks one uncompressed tar layer into an empty directory, the only code that writes image content.
#include <cstdint>
#include <filesystem>

#include "mcore/io.hpp"

namespace mcore::overlay {

// Reads the whole of `tar_stream` and writes its entries below the directory `root_fd` (shown as `shown`
// in errors), converting .wh. entries to overlay whiteouts. Throws Error naming the entry it refuses
// (escaping paths, device nodes, hardlinks to outside or missing targets); the caller then deletes the
// directory. Returns the bytes of regular file content written.
std::uint64_t unpack_layer(ByteSource& tar_stream, int root_fd, const std::filesystem::path& shown);

}  // namespace mcore::overlay
