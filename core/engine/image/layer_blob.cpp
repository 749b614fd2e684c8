#include "engine/image/layer_blob.hpp"

#include "engine/io/fd_stream.hpp"
#include "engine/image/layer_stream.hpp"

namespace mcore::engine {

LayerInfo apply_layer_stream(StorageDriver& storage, ByteSource& compressed, const std::string& diff_id,
                             const std::string& what) {
  DecompressingSource decompressed(compressed);
  VerifyingSource verified(decompressed, diff_id, what);
  return storage.apply_layer(diff_id, verified);
}

LayerInfo apply_layer_blob(const ImageStore& store, StorageDriver& storage, const std::string& blob_digest,
                           const std::string& diff_id) {
  FileSource blob(store.blob_path(blob_digest));
  return apply_layer_stream(storage, blob, diff_id, "layer " + blob_digest.substr(7, 12));
}

}  // namespace mcore::engine
