#pragma once
// Registry drivers fetch manifests and blobs of images (Docker Registry HTTP API v2 / OCI distribution,
// or any other source of OCI content). They never write to the image store: the engine does, verifying
// every blob it is given.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcore/image_reference.hpp"
#include "mcore/io.hpp"
#include "mcore/plugin.hpp"

namespace mcore {

struct Platform {
  std::string os = "linux";
  std::string architecture;  // GOARCH spelling: "amd64", "arm64"
  std::string variant;       // "v8", or ""
};

// An OCI content descriptor.
struct ContentDescriptor {
  std::string media_type;
  std::string digest;
  std::int64_t size = 0;
  std::vector<std::string> urls;
  nlohmann::json annotations = nlohmann::json::object();
};

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;
};

struct ResolvedManifest {
  ContentDescriptor manifest;   // the image manifest chosen (after platform selection)
  std::string manifest_bytes;   // verified against manifest.digest
  std::string index_digest;     // the index it was selected from, or ""
};

class RegistryDriver : public Driver {
 public:
  ~RegistryDriver() override;

  // Fetches the manifest `reference` names; when it is an index, selects `platform` (skipping
  // attestation manifests) and fetches that manifest. Every manifest is verified against its digest.
  // Throws Error with a clear reason for unknown images or tags, rejected credentials, rate limits and
  // unreachable or misbehaving registries.
  virtual ResolvedManifest resolve(const ImageReference& reference, const Platform& platform) = 0;

  // Streams blob `blob` of `reference`'s repository into `sink`, starting at byte `offset` (to resume a
  // broken download). The caller verifies the digest over every byte it received.
  virtual void fetch_blob(const ImageReference& reference, const ContentDescriptor& blob,
                          std::uint64_t offset, ByteSink& sink) = 0;

  // Checks `credentials` against `registry` ("docker.io", "host:port" or a URL naming one), then saves
  // them where this driver reads credentials from. Throws Error when they are rejected or cannot be
  // saved; nothing is saved then.
  virtual void login(const std::string& registry, const Credentials& credentials) = 0;

  // Forgets the credentials saved for `registry`; returns false when there were none. Contacts no
  // registry. Throws Error when they cannot be removed.
  virtual bool logout(const std::string& registry) = 0;
};

}  // namespace mcore
