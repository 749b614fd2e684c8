#pragma once
// What a layout's JSON documents say: manifest media types, the entries of an image index (index.json is
// one too) and which entry serves a platform. Pure functions over parsed JSON.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcore/registry_driver.hpp"

namespace oci_layout {

// True for an OCI image index or a Docker manifest list.
bool is_index_media_type(std::string_view media_type);
// True for an OCI image manifest or a Docker schema 2 manifest.
bool is_manifest_media_type(std::string_view media_type);

// The document's own mediaType, else `declared` (its descriptor's), else what its shape says: OCI lets
// both omit it. "" when nothing tells.
std::string media_type_of(const nlohmann::json& document, const std::string& declared);

struct IndexEntry {
  mcore::ContentDescriptor descriptor;
  std::optional<mcore::Platform> platform;
};

// The "manifests" of an image index. Throws mcore::Error naming `what` (a file or digest) and the entry
// at fault when the list or a descriptor is malformed.
std::vector<IndexEntry> parse_index(const nlohmann::json& index, const std::string& what);

// The org.opencontainers.image.ref.name annotation of `entry`, "" when it has none.
std::string ref_name(const IndexEntry& entry);

// Picks the entry for `wanted` among the runnable ones (attestation manifests are skipped): same os and
// architecture, and the same variant when `wanted` names one ("" and "v8" are alike on arm64). Throws
// mcore::Error naming `what` and the platforms on offer when none matches.
const IndexEntry& select_platform(const std::vector<IndexEntry>& entries, const mcore::Platform& wanted,
                                  const std::string& what);

// The platform of the machine mcore runs on, in GOARCH spelling: for a caller that named none.
mcore::Platform host_platform();

// "linux/arm64/v8".
std::string to_string(const mcore::Platform& platform);

}  // namespace oci_layout
