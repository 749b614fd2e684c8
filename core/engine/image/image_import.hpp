#pragma once
// mcore import: a root filesystem tarball becomes a one-layer image. The uncompressed tar is stored as
// the layer blob (media type ...layer.v1.tar, so its digest is the diff_id), unpacked by the storage
// driver, and described by a generated config and OCI manifest, as `docker import` does.
#include <cstdint>
#include <string>

#include "engine/image/image_store.hpp"
#include "mcore/io.hpp"
#include "mcore/registry_driver.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore::engine {

struct ImportOptions {
  std::string name;     // normalised reference ("docker.io/library/x:latest"); "" for an untagged image
  std::string source;   // what was imported, for the history: a file name, or "-" for standard input
  std::string message;  // the history comment; "Imported from <source>" when empty
  Platform platform;    // of the generated config
  std::string created;  // RFC 3339; now when empty
};

struct ImportMetadata {
  std::string config;    // the image config's bytes
  std::string manifest;  // the OCI manifest's bytes, pointing at `config` and the one layer
};

// The config and manifest of an image whose one layer is the uncompressed tar `diff_id` of `tar_size`
// bytes. No I/O.
ImportMetadata make_import_metadata(const std::string& diff_id, std::uint64_t tar_size,
                                    const ImportOptions& options);

// Imports `tarball` (plain, gzip or zstd). Refuses an empty input and whatever the storage driver
// refuses (escaping paths, devices); then the stores are left as they were. Throws Error.
ImageRecord import_rootfs(ImageStore& store, StorageDriver& storage, ByteSource& tarball,
                          const ImportOptions& options);

}  // namespace mcore::engine
