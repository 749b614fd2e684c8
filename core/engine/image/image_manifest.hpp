#pragma once
// The parts of an image manifest and config the engine acts on. The registry driver has verified the
// bytes; this only reads them, refusing shapes mcore cannot run.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcore::engine {

struct LayerBlob {
  std::string media_type;
  std::string digest;
  std::int64_t size = 0;
};

struct ImageManifest {
  std::string config_digest;
  std::int64_t config_size = 0;
  std::vector<LayerBlob> layers;  // lowest first
};

// An OCI image manifest or a Docker schema 2 manifest. Throws Error naming what is wrong.
ImageManifest parse_image_manifest(const std::string& bytes);

// rootfs.diff_ids of an image config, checked to be one per manifest layer. Throws Error.
std::vector<std::string> config_diff_ids(const nlohmann::json& config, std::size_t layer_count);

}  // namespace mcore::engine
