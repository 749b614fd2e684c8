#include "engine/image/image_archive.hpp"

#include <algorithm>
#include <span>

#include "engine/image/digest.hpp"
#include "mcore/error.hpp"
#include "mcore/image_reference.hpp"

namespace mcore::engine {
namespace {

constexpr std::string_view kBlobDir = "blobs/sha256/";
constexpr const char* kDamagedHint = "the archive is damaged, or was not written by docker/podman/mcore save";

nlohmann::json parse_json(const std::string& text, const std::string& what) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) throw Error(what + " is not valid JSON", 0, kDamagedHint);
  return json;
}

std::string string_field(const nlohmann::json& object, std::string_view key) {
  const auto found = object.find(std::string(key));
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

std::string normalised_name(const std::string& text, const std::string& where) {
  try {
    const ImageReference reference = parse_image_reference(text);
    if (reference.tag.empty()) throw Error("it has no tag");
    return to_string(reference);
  } catch (Error& error) {
    throw Error(where + " names \"" + text + "\", which is no image name: " + error.what(), 0, kDamagedHint);
  }
}

// The name an index entry's annotations give: containerd's full name first, then the OCI ref.name when
// it is more than a tag (podman and skopeo store whole references there).
std::optional<std::string> annotated_name(const nlohmann::json& descriptor) {
  const auto annotations = descriptor.find("annotations");
  if (annotations == descriptor.end() || !annotations->is_object()) return std::nullopt;
  const std::string full = string_field(*annotations, kContainerdNameAnnotation);
  if (!full.empty()) return normalised_name(full, "index.json");
  const std::string ref = string_field(*annotations, kOciRefNameAnnotation);
  if (ref.find_first_of("/:") == std::string::npos) return std::nullopt;
  return normalised_name(ref, "index.json");
}

bool variants_match(const Platform& offered, const Platform& wanted) {
  if (wanted.variant.empty() || offered.variant == wanted.variant) return true;
  // arm64 images often leave out "v8".
  return wanted.architecture == "arm64" && offered.variant.empty() && wanted.variant == "v8";
}

}  // namespace

ArchiveFormat parse_archive_format(std::string_view text) {
  if (text == "docker-archive") return ArchiveFormat::docker_archive;
  if (text == "oci-archive") return ArchiveFormat::oci_archive;
  throw Error("unknown archive format \"" + std::string(text) + "\"", 0,
              "use --format docker-archive (the default) or --format oci-archive");
}

std::optional<std::string> normalize_archive_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  if (parts.empty()) return std::nullopt;
  std::string joined;
  for (const auto part : parts) {
    if (!joined.empty()) joined += '/';
    joined += part;
  }
  return joined;
}

std::string blob_archive_path(const std::string& digest) {
  return std::string(kBlobDir) + digest.substr(digest.find(':') + 1);
}

std::optional<std::string> digest_of_blob_path(std::string_view path) {
  if (!path.starts_with(kBlobDir)) return std::nullopt;
  std::string digest = "sha256:" + std::string(path.substr(kBlobDir.size()));
  if (!is_valid_digest(digest)) return std::nullopt;
  return digest;
}

std::vector<DockerArchiveItem> parse_docker_archive_manifest(const std::string& text) {
  const nlohmann::json json = parse_json(text, "manifest.json");
  if (!json.is_array()) throw Error("manifest.json is not a list of images", 0, kDamagedHint);
  std::vector<DockerArchiveItem> items;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const auto& entry = json[i];
    const std::string where = "manifest.json entry " + std::to_string(i);
    if (!entry.is_object()) throw Error(where + " is not an object", 0, kDamagedHint);
    DockerArchiveItem item;
    item.config = string_field(entry, "Config");
    if (item.config.empty()) throw Error(where + " names no Config", 0, kDamagedHint);
    const auto layers = entry.find("Layers");
    if (layers == entry.end() || !layers->is_array())
      throw Error(where + " has no Layers list", 0, kDamagedHint);
    for (const auto& layer : *layers) {
      if (!layer.is_string() || layer.get<std::string>().empty()) {
        throw Error(where + " has a layer that is no path", 0, kDamagedHint);
      }
      item.layers.push_back(layer.get<std::string>());
    }
    const auto tags = entry.find("RepoTags");
    if (tags != entry.end() && tags->is_array()) {
      for (const auto& tag : *tags) {
        if (!tag.is_string()) throw Error(where + " has a RepoTag that is no string", 0, kDamagedHint);
        const std::string name = normalised_name(tag.get<std::string>(), where);
        if (std::find(item.names.begin(), item.names.end(), name) == item.names.end())
          item.names.push_back(name);
      }
    }
    items.push_back(std::move(item));
  }
  return items;
}

std::vector<OciIndexEntry> parse_oci_index(const std::string& text) {
  const nlohmann::json json = parse_json(text, "the image index");
  if (!json.is_object()) throw Error("the image index is not a JSON object", 0, kDamagedHint);
  const auto manifests = json.find("manifests");
  if (manifests == json.end() || !manifests->is_array()) {
    throw Error("the image index has no manifests list", 0, kDamagedHint);
  }
  std::vector<OciIndexEntry> entries;
  for (std::size_t i = 0; i < manifests->size(); ++i) {
    const auto& descriptor = (*manifests)[i];
    const std::string where = "the image index's manifest " + std::to_string(i);
    if (!descriptor.is_object()) throw Error(where + " is not an object", 0, kDamagedHint);
    OciIndexEntry entry;
    entry.media_type = string_field(descriptor, "mediaType");
    entry.digest = string_field(descriptor, "digest");
    if (!is_valid_digest(entry.digest)) {
      throw Error(where + " has the invalid digest \"" + entry.digest + "\"", 0, kDamagedHint);
    }
    if (const auto size = descriptor.find("size"); size != descriptor.end() && size->is_number_integer()) {
      entry.size = size->get<std::int64_t>();
    }
    if (const auto platform = descriptor.find("platform");
        platform != descriptor.end() && platform->is_object()) {
      entry.platform = Platform{string_field(*platform, "os"), string_field(*platform, "architecture"),
                                string_field(*platform, "variant")};
    }
    entry.name = annotated_name(descriptor);
    entries.push_back(std::move(entry));
  }
  return entries;
}

bool is_index_media_type(std::string_view media_type) {
  return media_type == "application/vnd.oci.image.index.v1+json" ||
         media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

std::optional<OciIndexEntry> select_platform(const std::vector<OciIndexEntry>& entries,
                                             const Platform& platform) {
  for (const auto& entry : entries) {
    if (!entry.platform) continue;
    if (entry.platform->os == platform.os && entry.platform->architecture == platform.architecture &&
        variants_match(*entry.platform, platform)) {
      return entry;
    }
  }
  return std::nullopt;
}

std::string layer_media_type_of(std::span<const std::byte> first_bytes) {
  const auto byte = [&](std::size_t i) {
    return i < first_bytes.size() ? std::to_integer<unsigned>(first_bytes[i]) : 256u;
  };
  if (byte(0) == 0x1f && byte(1) == 0x8b) return "application/vnd.oci.image.layer.v1.tar+gzip";
  if (byte(0) == 0x28 && byte(1) == 0xb5 && byte(2) == 0x2f && byte(3) == 0xfd) {
    return "application/vnd.oci.image.layer.v1.tar+zstd";
  }
  return "application/vnd.oci.image.layer.v1.tar";
}

std::string make_oci_manifest(const std::string& config_digest, std::int64_t config_size,
                              const std::vector<LayerBlob>& layers) {
  nlohmann::json descriptors = nlohmann::json::array();
  for (const auto& layer : layers) {
    descriptors.push_back({{"mediaType", layer.media_type}, {"digest", layer.digest}, {"size", layer.size}});
  }
  const nlohmann::json manifest = {{"schemaVersion", 2},
                                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                   {"config",
                                    {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                     {"digest", config_digest},
                                     {"size", config_size}}},
                                   {"layers", descriptors}};
  return manifest.dump();
}

nlohmann::json make_oci_index(const std::vector<SavedImage>& images) {
  nlohmann::json manifests = nlohmann::json::array();
  for (const auto& image : images) {
    const nlohmann::json descriptor = {{"mediaType", image.manifest_media_type},
                                       {"digest", image.manifest_digest},
                                       {"size", image.manifest_size}};
    if (image.names.empty()) manifests.push_back(descriptor);
    for (const auto& name : image.names) {
      nlohmann::json named = descriptor;
      named["annotations"] = {{std::string(kContainerdNameAnnotation), name},
                              {std::string(kOciRefNameAnnotation), parse_image_reference(name).tag}};
      manifests.push_back(std::move(named));
    }
  }
  return {{"schemaVersion", 2},
          {"mediaType", "application/vnd.oci.image.index.v1+json"},
          {"manifests", manifests}};
}

nlohmann::json make_docker_archive_manifest(const std::vector<SavedImage>& images) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& image : images) {
    nlohmann::json tags = nlohmann::json::array();
    for (const auto& name : image.names) tags.push_back(familiar_name(parse_image_reference(name)));
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& layer : image.layer_digests) layers.push_back(blob_archive_path(layer));
    // Docker writes null, not [], for an untagged image.
    items.push_back({{"Config", blob_archive_path(image.config_digest)},
                     {"RepoTags", image.names.empty() ? nlohmann::json(nullptr) : tags},
                     {"Layers", layers}});
  }
  return items;
}

}  // namespace mcore::engine
