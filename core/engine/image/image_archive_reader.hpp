#pragma once
// mcore load: the images of a docker-archive or an oci-archive (image_archive.hpp), gzip or zstd
// compressed or not, read in one pass. Every regular file goes into the blob store as it streams by,
// hashed on the way (small JSON files stay in memory); then the manifests are resolved, missing layers
// are unpacked from their blobs with their diff_ids verified, and the images are added.
#include <vector>

#include "engine/image/image_store.hpp"
#include "mcore/io.hpp"
#include "mcore/registry_driver.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore::engine {

// Loads every image `archive` holds, choosing `platform` from multi-platform indexes, and returns them
// with the names they were given. On any failure (a truncated archive, a digest mismatch, a layer the
// driver refuses) the blobs and layers this load added are removed again. Throws Error.
std::vector<ImageRecord> load_image_archive(ImageStore& store, StorageDriver& storage, ByteSource& archive,
                                            const Platform& platform);

}  // namespace mcore::engine
