#pragma once
// Unpacks one uncompressed tar layer into an empty directory, the only code that writes image content.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mcore/io.hpp"

namespace mcore::overlay {

struct UnpackResult {
  std::uint64_t bytes = 0;  // of regular file content written
  // Device nodes the layer holds but this process may not create (no CAP_MKNOD), skipped: one line each.
  std::vector<std::string> skipped_devices;
};

// Reads the whole of `tar_stream` and writes its entries below the directory `root_fd` (shown as `shown`
// in errors), converting .wh. entries to overlay whiteouts. Device nodes are created as Docker and
// containerd do (a container's device rules still decide who may open them), or skipped where mknod is
// not permitted. Throws Error naming the entry it refuses (escaping paths, hardlinks to outside or
// missing targets); the caller then deletes the directory. An opaque directory gets the attribute
// `opaque_attribute` ("trusted.overlay.opaque", or "user.overlay.opaque" in a user namespace).
UnpackResult unpack_layer(ByteSource& tar_stream, int root_fd, const std::filesystem::path& shown,
                          const std::string& opaque_attribute = "trusted.overlay.opaque");

}  // namespace mcore::overlay
