#include "engine/image/store_rollback.hpp"

#include <algorithm>
#include <set>

namespace mcore::engine {

StoreRollback::~StoreRollback() {
  if (committed_) return;
  // Best effort on the way out of the error the user sees instead. A concurrent pull or load may have
  // found one of these layers or blobs and named it in its image meanwhile: those stay.
  try {
    std::set<std::string> in_use;
    for (const auto& image : store_.list()) in_use.insert(image.layers.begin(), image.layers.end());
    for (const auto& layer : layers_) {
      if (!in_use.contains(layer)) storage_.remove_layer(layer);
    }
    const std::vector<std::string> unreferenced = store_.unreferenced_blobs();
    for (const auto& blob : blobs_) {
      if (std::binary_search(unreferenced.begin(), unreferenced.end(), blob)) store_.remove_blob(blob);
    }
  } catch (...) {
  }
}

}  // namespace mcore::engine
