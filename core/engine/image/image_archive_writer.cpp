#include "engine/image/image_archive_writer.hpp"

#include <algorithm>
#include <filesystem>

#include "engine/io/fd_stream.hpp"
#include "engine/image/image_manifest.hpp"
#include "engine/image/layer_stream.hpp"
#include "engine/image/tar_archive.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

// The images to write, one per id in the order first named, with the names of every request for it.
std::vector<ImageToSave> merge_by_id(const std::vector<ImageToSave>& images) {
  std::vector<ImageToSave> merged;
  for (const auto& request : images) {
    auto same = std::find_if(merged.begin(), merged.end(),
                             [&](const auto& m) { return m.image.id == request.image.id; });
    if (same == merged.end()) {
      merged.push_back(request);
      continue;
    }
    for (const auto& name : request.names) {
      if (std::find(same->names.begin(), same->names.end(), name) == same->names.end())
        same->names.push_back(name);
    }
  }
  return merged;
}

SavedImage describe(const ImageStore& store, const ImageToSave& request) {
  const ImageRecord& image = request.image;
  if (image.manifest_digest.empty()) {
    throw Error("image " + image.id + " has no stored manifest", 0, "pull or load the image again");
  }
  const std::string manifest_bytes = store.read_blob(image.manifest_digest);
  const ImageManifest manifest = parse_image_manifest(manifest_bytes);
  SavedImage saved;
  saved.manifest_digest = image.manifest_digest;
  saved.manifest_media_type =
      nlohmann::json::parse(manifest_bytes).value("mediaType", "application/vnd.oci.image.manifest.v1+json");
  saved.manifest_size = static_cast<std::int64_t>(manifest_bytes.size());
  saved.config_digest = manifest.config_digest;
  for (const auto& layer : manifest.layers) saved.layer_digests.push_back(layer.digest);
  saved.names = request.names;
  return saved;
}

}  // namespace

void write_image_archive(const ImageStore& store, const std::vector<ImageToSave>& images,
                         ArchiveFormat format, ByteSink& out) {
  std::vector<SavedImage> saved;
  std::vector<std::string> blobs;  // each once, layers first as Docker writes them
  const auto add_blob = [&](const std::string& digest) {
    if (std::find(blobs.begin(), blobs.end(), digest) == blobs.end()) blobs.push_back(digest);
  };
  for (const auto& request : merge_by_id(images)) {
    saved.push_back(describe(store, request));
    for (const auto& layer : saved.back().layer_digests) add_blob(layer);
    add_blob(saved.back().config_digest);
    add_blob(saved.back().manifest_digest);
  }
  for (const auto& digest : blobs) {
    if (!store.has_blob(digest)) {
      throw Error("blob " + digest + " is missing from the image store", 0,
                  "remove the image that needs it (mcore rmi) and pull or load it again");
    }
  }

  TarWriter tar(out);
  tar.add_directory("blobs");
  tar.add_directory("blobs/sha256");
  for (const auto& digest : blobs) {
    const std::filesystem::path path = store.blob_path(digest);
    FileSource file(path);
    VerifyingSource verified(file, digest, "blob " + digest);
    std::error_code error;
    const auto size = std::filesystem::file_size(path, error);
    if (error) throw Error("stat " + path.string(), error.value());
    tar.add_file(blob_archive_path(digest), size, verified);
    std::byte rest[1];
    if (verified.read(rest) != 0) throw Error("blob " + digest + " changed while it was saved");  // verifies
  }
  tar.add_file(std::string(kOciLayoutFile), R"({"imageLayoutVersion":"1.0.0"})");
  tar.add_file(std::string(kOciIndexFile), make_oci_index(saved).dump());
  if (format == ArchiveFormat::docker_archive) {
    tar.add_file(std::string(kDockerManifestFile), make_docker_archive_manifest(saved).dump());
  }
  tar.finish();
}

}  // namespace mcore::engine
