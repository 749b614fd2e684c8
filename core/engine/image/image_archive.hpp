#pragma once
// The metadata of image archives, without any I/O: what `docker save` / `podman save` archives say and
// what `mcore save` writes. Two formats share one tree:
//
//   docker-archive   manifest.json: [{"Config": path, "RepoTags": [...], "Layers": [path, ...]}]
//   oci-archive      oci-layout, index.json (manifest descriptors, names in annotations), blobs/sha256/*
//
// mcore writes an OCI layout in both, plus manifest.json for docker-archive, as Docker 25 does: every
// reader of either format finds what it looks for, and the original manifests and digests survive.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/image/image_manifest.hpp"
#include "mcore/registry_driver.hpp"

namespace mcore::engine {

inline constexpr std::string_view kDockerManifestFile = "manifest.json";
inline constexpr std::string_view kOciIndexFile = "index.json";
inline constexpr std::string_view kOciLayoutFile = "oci-layout";
// containerd's (and Docker's) annotation for the full image name; the OCI one holds only the tag.
inline constexpr std::string_view kContainerdNameAnnotation = "io.containerd.image.name";
inline constexpr std::string_view kOciRefNameAnnotation = "org.opencontainers.image.ref.name";

enum class ArchiveFormat { docker_archive, oci_archive };

// "docker-archive" / "oci-archive" -> the format; throws Error naming the accepted values.
ArchiveFormat parse_archive_format(std::string_view text);

// An archive member's path in canonical form: "./a//b/./c" -> "a/b/c". nullopt for a path that is empty
// or climbs out of the archive ("../x", "/x" is taken as "x").
std::optional<std::string> normalize_archive_path(std::string_view path);

// "blobs/sha256/<hex>" for "sha256:<hex>", and back (nullopt when `path` is no such blob path).
std::string blob_archive_path(const std::string& digest);
std::optional<std::string> digest_of_blob_path(std::string_view path);

// One image of a docker-archive.
struct DockerArchiveItem {
  std::string config;               // archive path of the image config
  std::vector<std::string> layers;  // archive paths of the layers, lowest first
  std::vector<std::string> names;   // RepoTags, normalised ("docker.io/library/busybox:latest")
};

// Parses manifest.json. Throws Error naming what is wrong (an invalid RepoTag included).
std::vector<DockerArchiveItem> parse_docker_archive_manifest(const std::string& text);

// A manifest (or index) an OCI layout's index.json lists.
struct OciIndexEntry {
  std::string media_type;
  std::string digest;
  std::int64_t size = 0;
  std::optional<Platform> platform;
  std::optional<std::string> name;  // normalised, from the annotations
};

// Parses index.json, or an image index blob. Names: io.containerd.image.name, else
// org.opencontainers.image.ref.name when it is a whole reference; a bare tag ("latest") names nothing.
// Throws Error naming what is wrong.
std::vector<OciIndexEntry> parse_oci_index(const std::string& text);

// True for an image index (a multi-platform list) rather than one image's manifest.
bool is_index_media_type(std::string_view media_type);

// The entry of a multi-platform index that runs on `platform` (os and architecture equal, variant equal
// when both give one); nullopt when none does.
std::optional<OciIndexEntry> select_platform(const std::vector<OciIndexEntry>& entries,
                                             const Platform& platform);

// The media type a stored layer blob gets in a manifest mcore writes, from its first bytes: gzip, zstd
// or plain tar.
std::string layer_media_type_of(std::span<const std::byte> first_bytes);

// The OCI image manifest mcore writes for an image that came without one (a legacy docker-archive, an
// import): `config_digest` of `config_size` bytes and `layers`, lowest first.
std::string make_oci_manifest(const std::string& config_digest, std::int64_t config_size,
                              const std::vector<LayerBlob>& layers);

// One image to write into an archive.
struct SavedImage {
  std::string manifest_digest;
  std::string manifest_media_type;
  std::int64_t manifest_size = 0;
  std::string config_digest;
  std::vector<std::string> layer_digests;  // blobs, lowest first
  std::vector<std::string> names;          // normalised references; empty for an untagged image
};

// index.json: one descriptor per name (annotated with both the full name and its tag), or one without
// annotations for an untagged image.
nlohmann::json make_oci_index(const std::vector<SavedImage>& images);
// manifest.json: one item per image, RepoTags in Docker's familiar form, paths into blobs/sha256.
nlohmann::json make_docker_archive_manifest(const std::vector<SavedImage>& images);

}  // namespace mcore::engine
