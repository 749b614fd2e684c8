#pragma once
// Image removal and garbage collection shared by `mcore rmi` and `mcore image prune`: which images
// containers use, and freeing the blobs and unpacked layers nothing references any more.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/context/config.hpp"
#include "engine/image/image_store.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore::engine {

// Resolves what a user typed the way `mcore run` does: a stored name, repo digest or id (prefix) first,
// then the normalised reference ("alpine" -> "docker.io/library/alpine:latest"). Throws Error on an
// ambiguous id prefix; nullopt when nothing matches (or the text is no valid reference).
std::optional<ImageRecord> resolve_image(const ImageStore& store, const std::string& name_or_id);

struct ImageUser {
  std::string container;  // the container's name (its id when unnamed)
  bool running = false;   // running or paused, as its supervisor shows, not as its record claims
};

// Which containers use which image, from their records (<data_root>/containers/*/container.json).
struct ImageUsage {
  std::map<std::string, std::vector<ImageUser>> by_image;  // image id -> the containers made from it
  // Containers whose records cannot be read: any image may be theirs.
  std::vector<ImageUser> unknown;

  // The containers that use, or may use, `image_id`.
  std::vector<ImageUser> users_of(const std::string& image_id) const;
};
ImageUsage images_in_use(const Config& config);

struct GcReport {
  std::vector<std::string> deleted_layers;  // diff_ids removed from the storage driver
  std::string kept_all_layers;  // why no layer was deleted ("" when nothing stood in the way)
  std::vector<std::string> unfinished;  // what killed pulls, loads and commits had left, one line each
  std::vector<std::string> deleted_blobs;
  std::uint64_t reclaimed_bytes = 0;        // blob bytes freed (unpacked layer sizes are the driver's)
};

// Under the store's collection hold: removes `image_ids` from the index, then deletes every layer that
// no remaining image and no container record lists (so `rmi -f` never pulls layers from under a
// container, and the container's removal frees them later) — no layer at all while a record cannot be
// read — then every blob no image references. Throws Error.
GcReport remove_images_and_collect(ImageStore& store, StorageDriver& storage,
                                   const std::filesystem::path& data_root,
                                   const std::vector<std::string>& image_ids);

}  // namespace mcore::engine
