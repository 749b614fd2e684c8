// The metadata of image archives handed to `mcore load`: docker-archive manifest.json, OCI index.json
// (and image indexes), and the member paths they name.
#include "engine/image/image_archive.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(mcore::fuzz::as_text(data, size));
  mcore::fuzz::refusing_with_errors([&] {
    for (const auto& item : mcore::engine::parse_docker_archive_manifest(text)) {
      (void)mcore::engine::normalize_archive_path(item.config);
      for (const auto& layer : item.layers) (void)mcore::engine::normalize_archive_path(layer);
    }
  });
  mcore::fuzz::refusing_with_errors([&] {
    const auto entries = mcore::engine::parse_oci_index(text);
    mcore::Platform wanted;
    wanted.os = "linux";
    wanted.architecture = "amd64";
    (void)mcore::engine::select_platform(entries, wanted);
    for (const auto& entry : entries) (void)mcore::engine::digest_of_blob_path(mcore::engine::blob_archive_path(entry.digest));
  });
  (void)mcore::engine::normalize_archive_path(text);
  return 0;
}
