#pragma once
// Unpacking a layer through the storage driver the one way mcore does it: decompressed (gzip, zstd or
// none), verified against its diff_id, applied. A pull feeds it the download as it arrives; mcore import
// and mcore load feed it a blob already in the image store.
#include <string>

#include "engine/image/image_store.hpp"
#include "mcore/io.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore::engine {

// Applies `compressed` (a plain, gzip or zstd tar) as layer `diff_id`. The driver publishes the layer
// only when the whole uncompressed stream hashed to `diff_id`; `what` names the layer in that error
// ("layer 3f2a..."). Throws Error.
LayerInfo apply_layer_stream(StorageDriver& storage, ByteSource& compressed, const std::string& diff_id,
                             const std::string& what);

// apply_layer_stream on the stored blob `blob_digest`.
LayerInfo apply_layer_blob(const ImageStore& store, StorageDriver& storage, const std::string& blob_digest,
                           const std::string& diff_id);

}  // namespace mcore::engine
