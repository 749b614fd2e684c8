#include "manifest.hpp"

#include <array>
#include <cstdio>

#include <openssl/evp.h>

#include "mcore/error.hpp"

namespace mcore::registry {

namespace {

using nlohmann::json;

json parse_json(std::string_view body, const char* what) {
  auto document = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    throw Error(std::string("the registry sent a ") + what + " that is not a JSON object");
  }
  return document;
}

std::string string_field(const json& object, const char* key, const char* what, bool required = true) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) throw Error(std::string("malformed ") + what + ": \"" + key + "\" is missing");
    return {};
  }
  if (!it->is_string()) throw Error(std::string("malformed ") + what + ": \"" + key + "\" is not a string");
  return it->get<std::string>();
}

ContentDescriptor parse_descriptor(const json& node, const char* what) {
  if (!node.is_object()) throw Error(std::string("malformed ") + what + ": a descriptor is not an object");
  ContentDescriptor descriptor;
  descriptor.media_type = string_field(node, "mediaType", what, false);
  descriptor.digest = string_field(node, "digest", what);
  const auto size = node.find("size");
  if (size == node.end() || !size->is_number_integer() || size->get<std::int64_t>() < 0) {
    throw Error(std::string("malformed ") + what + ": descriptor " + descriptor.digest +
                " has no valid size");
  }
  descriptor.size = size->get<std::int64_t>();
  if (const auto urls = node.find("urls"); urls != node.end() && urls->is_array()) {
    for (const auto& url : *urls) {
      if (url.is_string()) descriptor.urls.push_back(url.get<std::string>());
    }
  }
  if (const auto annotations = node.find("annotations");
      annotations != node.end() && annotations->is_object()) {
    descriptor.annotations = *annotations;
  }
  if (descriptor.digest.find(':') == std::string::npos) {
    throw Error(std::string("malformed ") + what + ": bad digest \"" + descriptor.digest + "\"");
  }
  return descriptor;
}

bool variants_match(const Platform& have, const Platform& wanted) {
  if (wanted.variant.empty() || have.variant == wanted.variant) return true;
  // Docker normalises arm64 without a variant to v8.
  return wanted.architecture == "arm64" && wanted.variant == "v8" && have.variant.empty();
}

}  // namespace

std::string manifest_accept_header() {
  return std::string(kOciIndex) + ", " + std::string(kOciManifest) + ", " + std::string(kDockerList) + ", " +
         std::string(kDockerManifest);
}

bool is_index_media_type(std::string_view media_type) {
  return media_type == kOciIndex || media_type == kDockerList;
}

bool is_manifest_media_type(std::string_view media_type) {
  return media_type == kOciManifest || media_type == kDockerManifest;
}

std::string sha256_digest(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> hash{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), hash.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw Error("sha256 of " + std::to_string(bytes.size()) + " bytes failed (OpenSSL)");
  }
  std::string text = "sha256:";
  char hex[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", hash[i]);
    text += hex;
  }
  return text;
}

void verify_digest(std::string_view bytes, const std::string& digest, const std::string& what) {
  if (digest.rfind("sha256:", 0) != 0) {
    throw Error(what + ": unsupported digest algorithm in \"" + digest + "\"", 0, "only sha256 is supported");
  }
  const auto actual = sha256_digest(bytes);
  if (actual != digest) {
    throw Error(what + ": digest mismatch: expected " + digest + ", got " + actual, 0,
                "the registry sent corrupted content; retry, or report it to the registry's operator");
  }
}

std::string detect_media_type(std::string_view content_type, std::string_view body) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (is_index_media_type(type) || is_manifest_media_type(type)) return type;
  const auto document = parse_json(body, "manifest");
  auto field = string_field(document, "mediaType", "manifest", false);
  if (!field.empty()) return field;
  // OCI allows omitting mediaType: tell an index from a manifest by its shape.
  if (document.contains("manifests")) return std::string(kOciIndex);
  if (document.contains("config") && document.contains("layers")) return std::string(kOciManifest);
  // Any JSON may come: a schemaVersion that is not a number is no schema 1, and no exception.
  if (const auto version = document.find("schemaVersion");
      version != document.end() && version->is_number_integer() && version->get<std::int64_t>() == 1) {
    throw Error("the registry sent a schema 1 manifest, which mcore does not support", 0,
                "push the image again with a current tool (docker, podman, skopeo)");
  }
  throw Error("the registry sent a manifest of unknown type \"" + type + "\"");
}

std::vector<IndexEntry> parse_index(std::string_view body) {
  const auto document = parse_json(body, "image index");
  const auto manifests = document.find("manifests");
  if (manifests == document.end() || !manifests->is_array()) {
    throw Error("malformed image index: \"manifests\" is missing or not a list");
  }
  std::vector<IndexEntry> entries;
  for (const auto& node : *manifests) {
    IndexEntry entry;
    entry.descriptor = parse_descriptor(node, "image index");
    if (const auto platform = node.find("platform"); platform != node.end() && platform->is_object()) {
      entry.has_platform = true;
      entry.platform.os = string_field(*platform, "os", "image index platform", false);
      entry.platform.architecture = string_field(*platform, "architecture", "image index platform", false);
      entry.platform.variant = string_field(*platform, "variant", "image index platform", false);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

ImageManifest parse_image_manifest(std::string_view body) {
  const auto document = parse_json(body, "image manifest");
  ImageManifest manifest;
  const auto config = document.find("config");
  if (config == document.end()) throw Error("malformed image manifest: \"config\" is missing");
  manifest.config = parse_descriptor(*config, "image manifest");
  const auto layers = document.find("layers");
  if (layers == document.end() || !layers->is_array()) {
    throw Error("malformed image manifest: \"layers\" is missing or not a list");
  }
  for (const auto& layer : *layers) manifest.layers.push_back(parse_descriptor(layer, "image manifest"));
  return manifest;
}

bool is_attestation(const IndexEntry& entry) {
  const auto& annotations = entry.descriptor.annotations;
  if (const auto it = annotations.find("vnd.docker.reference.type");
      it != annotations.end() && it->is_string() && it->get<std::string>() == "attestation-manifest") {
    return true;
  }
  return entry.has_platform && entry.platform.os == "unknown" && entry.platform.architecture == "unknown";
}

const IndexEntry& select_platform(const std::vector<IndexEntry>& entries, const Platform& wanted) {
  std::string available;
  for (const auto& entry : entries) {
    if (is_attestation(entry) || !entry.has_platform) continue;
    if (entry.platform.os == wanted.os && entry.platform.architecture == wanted.architecture &&
        variants_match(entry.platform, wanted)) {
      return entry;
    }
    available += (available.empty() ? "" : ", ") + to_string(entry.platform);
  }
  throw Error("no image for platform " + to_string(wanted) +
                  " in the index (available: " + (available.empty() ? "none" : available) + ")",
              0, "choose one of the available platforms with --platform");
}

std::string to_string(const Platform& platform) {
  auto text = platform.os + "/" + platform.architecture;
  if (!platform.variant.empty()) text += "/" + platform.variant;
  return text;
}

}  // namespace mcore::registry
