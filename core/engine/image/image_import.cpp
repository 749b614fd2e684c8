#include "engine/image/image_import.hpp"

#include "engine/container/container_store.hpp"
#include "engine/image/image_archive.hpp"
#include "engine/image/layer_blob.hpp"
#include "engine/image/layer_stream.hpp"
#include "engine/image/store_rollback.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

ImportMetadata make_import_metadata(const std::string& diff_id, std::uint64_t tar_size,
                                    const ImportOptions& options) {
  const std::string created = options.created.empty() ? now_rfc3339() : options.created;
  const std::string comment = options.message.empty() ? "Imported from " + options.source : options.message;
  nlohmann::json config = {
      {"architecture", options.platform.architecture},
      {"os", options.platform.os},
      {"created", created},
      {"config", nlohmann::json::object()},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}},
      {"history", {{{"created", created}, {"created_by", "mcore import"}, {"comment", comment}}}},
  };
  if (!options.platform.variant.empty()) config["variant"] = options.platform.variant;
  ImportMetadata metadata;
  metadata.config = config.dump();
  metadata.manifest = make_oci_manifest(
      sha256_digest(metadata.config), static_cast<std::int64_t>(metadata.config.size()),
      {{"application/vnd.oci.image.layer.v1.tar", diff_id, static_cast<std::int64_t>(tar_size)}});
  return metadata;
}

ImageRecord import_rootfs(ImageStore& store, StorageDriver& storage, ByteSource& tarball,
                          const ImportOptions& options) {
  const FileLock writing = store.hold_for_writing();
  StoreRollback rollback(store, storage);

  // Pass one stores the uncompressed tar and learns its digest; pass two unpacks it from the blob. One
  // pass (as a pull does) would need the layer's id, its diff_id, before the driver starts unpacking.
  DecompressingSource decompressed(tarball);
  const ImageStore::AddedBlob layer = store.add_blob(decompressed);
  if (layer.created) rollback.added_blob(layer.digest);
  if (layer.size == 0) {
    throw Error("the tarball is empty", 0, "give a tar archive of a root filesystem (plain, gzip or zstd)");
  }
  std::uint64_t unpacked = 0;
  if (const auto present = storage.find_layer(layer.digest)) {
    unpacked = present->size_bytes;
  } else {
    unpacked = apply_layer_blob(store, storage, layer.digest, layer.digest).size_bytes;
    rollback.added_layer(layer.digest);
  }

  ImportOptions dated = options;
  if (dated.created.empty()) dated.created = now_rfc3339();
  const ImportMetadata metadata = make_import_metadata(layer.digest, layer.size, dated);
  ImageRecord record;
  record.id = sha256_digest(metadata.config);
  record.manifest_digest = sha256_digest(metadata.manifest);
  for (const auto& [digest, content] :
       {std::pair{record.id, &metadata.config}, std::pair{record.manifest_digest, &metadata.manifest}}) {
    if (store.has_blob(digest)) continue;
    store.put_blob(digest, *content);
    rollback.added_blob(digest);
  }
  if (!options.name.empty()) record.names.push_back(options.name);
  record.layers = {layer.digest};
  record.created = dated.created;
  record.size = static_cast<std::int64_t>(unpacked);
  store.add_image(record);
  rollback.commit();
  return record;
}

}  // namespace mcore::engine
