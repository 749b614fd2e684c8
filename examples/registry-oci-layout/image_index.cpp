#include "image_index.hpp"

#include <sys/utsname.h>

#include "mcore/error.hpp"

namespace oci_layout {

namespace {

using nlohmann::json;

constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kRefName = "org.opencontainers.image.ref.name";

std::string text_field(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

mcore::ContentDescriptor parse_descriptor(const json& node, const std::string& where) {
  const auto size = node.is_object() ? node.find("size") : node.end();
  if (!node.is_object() || text_field(node, "digest").empty() || size == node.end() ||
      !size->is_number_integer() || size->get<std::int64_t>() < 0) {
    throw mcore::Error(where + ": not a descriptor with a digest and a size", 0,
                       "the layout is damaged; copy the image into it again");
  }
  mcore::ContentDescriptor descriptor;
  descriptor.media_type = text_field(node, "mediaType");
  descriptor.digest = text_field(node, "digest");
  descriptor.size = size->get<std::int64_t>();
  if (const auto it = node.find("annotations"); it != node.end() && it->is_object())
    descriptor.annotations = *it;
  if (const auto it = node.find("urls"); it != node.end() && it->is_array()) {
    for (const auto& url : *it) {
      if (url.is_string()) descriptor.urls.push_back(url.get<std::string>());
    }
  }
  return descriptor;
}

// Buildkit stores provenance and SBOMs as index entries of platform unknown/unknown.
bool is_attestation(const IndexEntry& entry) {
  const auto& annotations = entry.descriptor.annotations;
  const auto type = annotations.find("vnd.docker.reference.type");
  if (type != annotations.end() && *type == "attestation-manifest") return true;
  return entry.platform && entry.platform->os == "unknown" && entry.platform->architecture == "unknown";
}

bool same_platform(const mcore::Platform& have, const mcore::Platform& wanted) {
  if (have.os != wanted.os || have.architecture != wanted.architecture) return false;
  if (wanted.variant.empty() || have.variant == wanted.variant) return true;
  return wanted.architecture == "arm64" && wanted.variant == "v8" && have.variant.empty();
}

}  // namespace

bool is_index_media_type(std::string_view media_type) {
  return media_type == kOciIndex || media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

bool is_manifest_media_type(std::string_view media_type) {
  return media_type == kOciManifest || media_type == "application/vnd.docker.distribution.manifest.v2+json";
}

std::string media_type_of(const json& document, const std::string& declared) {
  if (auto own = text_field(document, "mediaType"); !own.empty()) return own;
  if (!declared.empty()) return declared;
  if (document.contains("manifests")) return std::string(kOciIndex);
  if (document.contains("config") && document.contains("layers")) return std::string(kOciManifest);
  return {};
}

std::vector<IndexEntry> parse_index(const json& index, const std::string& what) {
  const auto manifests = index.find("manifests");
  if (manifests == index.end() || !manifests->is_array()) {
    throw mcore::Error(what + ": \"manifests\" is missing or not a list", 0,
                       "the layout is damaged; copy the image into it again");
  }
  std::vector<IndexEntry> entries;
  for (std::size_t i = 0; i < manifests->size(); ++i) {
    const auto& node = (*manifests)[i];
    IndexEntry entry{parse_descriptor(node, what + ": manifests[" + std::to_string(i) + "]"), std::nullopt};
    if (const auto it = node.find("platform"); it != node.end() && it->is_object()) {
      entry.platform =
          mcore::Platform{text_field(*it, "os"), text_field(*it, "architecture"), text_field(*it, "variant")};
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string ref_name(const IndexEntry& entry) {
  const auto& annotations = entry.descriptor.annotations;
  const auto it = annotations.find(kRefName);
  return it != annotations.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const IndexEntry& select_platform(const std::vector<IndexEntry>& entries, const mcore::Platform& wanted,
                                  const std::string& what) {
  std::string offered;
  for (const auto& entry : entries) {
    if (!entry.platform || is_attestation(entry)) continue;
    if (same_platform(*entry.platform, wanted)) return entry;
    offered += (offered.empty() ? "" : ", ") + to_string(*entry.platform);
  }
  throw mcore::Error(
      what + " has no image for platform " + to_string(wanted) +
          " (it offers: " + (offered.empty() ? "none" : offered) + ")",
      0, "pull one of the platforms it offers with --platform, or copy that platform into the layout");
}

mcore::Platform host_platform() {
  utsname names{};
  ::uname(&names);
  const std::string machine = names.machine;
  if (machine == "x86_64") return {"linux", "amd64", ""};
  if (machine == "aarch64") return {"linux", "arm64", "v8"};
  if (machine == "armv7l") return {"linux", "arm", "v7"};
  return {"linux", machine, ""};
}

std::string to_string(const mcore::Platform& platform) {
  auto text = platform.os + "/" + platform.architecture;
  if (!platform.variant.empty()) text += "/" + platform.variant;
  return text;
}

}  // namespace oci_layout
