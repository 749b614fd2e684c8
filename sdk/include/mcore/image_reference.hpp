#pragma once
// Image references as Docker spells and normalises them. Shared by the engine and registry drivers so
// both agree on what "alpine" means.
#include <string>
#include <string_view>

namespace mcore {

// A normalised image reference: "alpine" is {"docker.io", "library/alpine", "latest", ""}.
struct ImageReference {
  std::string registry;    // "docker.io", "localhost:5000", "[::1]:5000"
  std::string repository;  // "library/alpine"
  std::string tag;         // "" when only a digest is given
  std::string digest;      // "sha256:<64 hex>" or ""
};

// Parses and normalises Docker's reference grammar: a missing registry is docker.io, a one-part name on
// docker.io gets "library/", a missing tag (without digest) is "latest", "index.docker.io" is docker.io.
// The first component is a registry when it contains '.' or ':', is "localhost", or has a capital letter
// (as Docker decides). Throws Error "invalid reference format: <reason>" with a hint: uppercase
// repository, empty component, bad registry, bad tag, bad or unsupported digest (only sha256), a bare
// 64-hex name, a normalised name over 255 characters.
ImageReference parse_image_reference(std::string_view text);

// "docker.io/library/alpine:latest", "localhost:5000/x@sha256:..." (tag and digest both when set).
std::string to_string(const ImageReference& reference);

// Docker's short display form: "alpine:latest", "user/app:1", "localhost:5000/x:y".
std::string familiar_name(const ImageReference& reference);

}  // namespace mcore
