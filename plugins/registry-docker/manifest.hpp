#pragma once
// Manifest media types, manifest and index parsing, and platform selection: pure functions over bytes,
// so every rule here is unit-tested without a registry.
#include <string>
#include <string_view>
#include <vector>

#include "mcore/registry_driver.hpp"

namespace mcore::registry {

inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

// The Accept header value naming all four types.
std::string manifest_accept_header();

bool is_index_media_type(std::string_view media_type);
bool is_manifest_media_type(std::string_view media_type);

// "sha256:<hex>" of `bytes`.
std::string sha256_digest(std::string_view bytes);
// Throws Error unless `bytes` hash to `digest` (only sha256 is supported); `what` names the content.
void verify_digest(std::string_view bytes, const std::string& digest, const std::string& what);

struct IndexEntry {
  ContentDescriptor descriptor;
  Platform platform;
  bool has_platform = false;
};

struct ImageManifest {
  ContentDescriptor config;
  std::vector<ContentDescriptor> layers;
};

// The media type of a manifest: `content_type` (the HTTP header, parameters dropped) unless it is
// empty or generic, else the document's own mediaType field. Throws Error on a body that is not JSON.
std::string detect_media_type(std::string_view content_type, std::string_view body);

// Parses an OCI index or Docker manifest list; throws Error naming what is malformed.
std::vector<IndexEntry> parse_index(std::string_view body);
// Parses an OCI image manifest or Docker schema 2 manifest; throws Error naming what is malformed.
ImageManifest parse_image_manifest(std::string_view body);

// An attestation (buildkit provenance/SBOM) entry, never a runnable image.
bool is_attestation(const IndexEntry& entry);

// Picks the entry for `wanted`: same os and architecture, and the same variant when `wanted` names one
// (arm64 treats "" and "v8" alike). Without a variant, the first entry wins. Throws Error listing the
// platforms the index offers when none matches.
const IndexEntry& select_platform(const std::vector<IndexEntry>& entries, const Platform& wanted);

// "linux/arm64/v8".
std::string to_string(const Platform& platform);

}  // namespace mcore::registry
