#pragma once
// Pulls an image into the store: the manifest and config through the registry driver, then every
// missing layer in parallel, each hashed, decompressed and unpacked by the storage driver in one pass
// as its bytes arrive. A layer appears only once both its blob digest and its diff_id matched; an
// interrupted pull leaves a partial blob that the next pull resumes.
#include <cstdint>
#include <string>

#include "engine/context/engine.hpp"
#include "engine/image/image_store.hpp"
#include "mcore/registry_driver.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore::engine {

// waiting_for_other_pull: another mcore process downloads this layer; this pull waits for it and then
// uses what it stored.
enum class LayerState { waiting, waiting_for_other_pull, downloading, extracting, done, already_exists };

// Progress of a pull, reported from the worker threads (implementations must be thread-safe).
class PullObserver {
 public:
  virtual ~PullObserver() = default;
  virtual void layer(const std::string& digest, LayerState state, std::uint64_t done, std::uint64_t total) = 0;
};

struct PullOptions {
  Platform platform;
  unsigned parallel_layers = 3;
  PullObserver* observer = nullptr;
};

// The host's platform in OCI spelling (linux/amd64).
Platform host_platform();

ImageRecord pull_image(ImageStore& store, RegistryDriver& registry, StorageDriver& storage,
                       const ImageReference& reference, const PullOptions& options);

// A front end's view of a pull (the CLI draws progress bars): `pulling` returns the observer for its
// layers, or null.
class PullSink {
 public:
  virtual ~PullSink() = default;
  // `missing_locally`: the store did not have the image (Docker says "Unable to find image").
  virtual PullObserver* pulling(const ImageReference& reference, bool missing_locally) = 0;
  virtual void pulled(const ImageReference& reference, const ImageRecord& record) = 0;
  // The pull threw; called before the error propagates, so a progress display can close cleanly.
  virtual void pull_failed() = 0;
};

// Pulls `reference` for `platform` into the store, telling `sink` (may be null). `missing_locally` is
// passed on to the sink.
ImageRecord pull_image(Engine& engine, const ImageReference& reference, const Platform& platform, PullSink* sink,
                       bool missing_locally = false);

}  // namespace mcore::engine
