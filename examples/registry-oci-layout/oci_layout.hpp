#pragma once
// One OCI image layout directory (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
// the oci-layout marker, index.json and blobs/sha256/<hex>. Read-only; safe to use from several threads.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "image_index.hpp"
#include "mcore/io.hpp"
#include "mcore/registry_driver.hpp"

namespace oci_layout {

class OciLayout {
 public:
  // Checks that `dir` holds an oci-layout file of version 1.x. Throws mcore::Error naming the file and
  // the fix otherwise.
  explicit OciLayout(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }

  // The entries of index.json, read afresh on every call so that images copied in meanwhile are seen.
  std::vector<IndexEntry> index() const;

  // The bytes of the manifest or index `descriptor` names, verified against its digest (and its size,
  // when not 0). Throws mcore::Error naming the blob file: missing, too large, mismatched.
  std::string read_manifest(const mcore::ContentDescriptor& descriptor) const;

  // Streams blob `blob` into `sink` from byte `offset`. Throws mcore::Error when the blob is missing,
  // its size differs from blob.size (when not 0) or `offset` lies past its end.
  void stream_blob(const mcore::ContentDescriptor& blob, std::uint64_t offset, mcore::ByteSink& sink) const;

  // blobs/sha256/<hex> of `digest`; throws mcore::Error for anything but a sha256 digest.
  std::filesystem::path blob_path(const std::string& digest) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace oci_layout
