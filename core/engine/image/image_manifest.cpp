#include "engine/image/image_manifest.hpp"

#include <array>
#include <string_view>

#include "engine/image/digest.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

constexpr std::array kManifestTypes = {"application/vnd.oci.image.manifest.v1+json",
                                       "application/vnd.docker.distribution.manifest.v2+json"};
// Layers mcore can unpack: tar, gzip and zstd in their OCI and Docker spellings.
constexpr std::array kLayerTypes = {
    "application/vnd.oci.image.layer.v1.tar",        "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",   "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"};

template <std::size_t N>
bool one_of(const std::array<const char*, N>& types, std::string_view type) {
  for (const char* known : types) {
    if (type == known) return true;
  }
  return false;
}

std::string digest_field(const nlohmann::json& descriptor, const std::string& where) {
  std::string digest = descriptor.value("digest", "");
  if (!is_valid_digest(digest)) throw Error("the image manifest's " + where + " has an invalid digest \"" + digest + "\"");
  return digest;
}

}  // namespace

ImageManifest parse_image_manifest(const std::string& bytes) {
  nlohmann::json json = nlohmann::json::parse(bytes, nullptr, false);
  if (!json.is_object()) throw Error("the image manifest is not a JSON object");
  // OCI manifests may omit mediaType; Docker's always carry it.
  std::string type = json.value("mediaType", "application/vnd.oci.image.manifest.v1+json");
  if (!one_of(kManifestTypes, type)) {
    throw Error("unsupported manifest type \"" + type + "\"", 0,
                "mcore runs OCI and Docker schema 2 images; an index must be resolved to one platform first");
  }
  if (!json.contains("config") || !json["config"].is_object()) throw Error("the image manifest has no config");
  ImageManifest manifest;
  manifest.config_digest = digest_field(json["config"], "config");
  manifest.config_size = json["config"].value("size", std::int64_t{0});
  if (!json.contains("layers") || !json["layers"].is_array()) throw Error("the image manifest has no layer list");
  for (std::size_t i = 0; i < json["layers"].size(); ++i) {
    const auto& layer = json["layers"][i];
    LayerBlob blob{layer.value("mediaType", ""), digest_field(layer, "layer " + std::to_string(i)),
                   layer.value("size", std::int64_t{0})};
    if (!one_of(kLayerTypes, blob.media_type)) {
      throw Error("layer " + std::to_string(i) + " has the unsupported media type \"" + blob.media_type + "\"");
    }
    manifest.layers.push_back(std::move(blob));
  }
  return manifest;
}

std::vector<std::string> config_diff_ids(const nlohmann::json& config, std::size_t layer_count) {
  const auto rootfs = config.find("rootfs");
  if (rootfs == config.end() || !rootfs->is_object() || !rootfs->contains("diff_ids") ||
      !(*rootfs)["diff_ids"].is_array()) {
    throw Error("the image config has no rootfs.diff_ids");
  }
  std::vector<std::string> diff_ids;
  for (const auto& id : (*rootfs)["diff_ids"]) {
    if (!id.is_string() || !is_valid_digest(id.get<std::string>())) throw Error("the image config has an invalid diff_id");
    diff_ids.push_back(id.get<std::string>());
  }
  if (diff_ids.size() != layer_count) {
    throw Error("the image config lists " + std::to_string(diff_ids.size()) + " layers but the manifest " +
                std::to_string(layer_count));
  }
  return diff_ids;
}

}  // namespace mcore::engine
