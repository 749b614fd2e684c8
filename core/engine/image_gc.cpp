#include "engine/image_gc.hpp"

#include <algorithm>
#include <set>
#include <system_error>

#include "engine/container_store.hpp"
#include "mcore/error.hpp"
#include "mcore/image_reference.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

std::optional<ImageRecord> resolve_image(const ImageStore& store, const std::string& name_or_id) {
  if (auto record = store.find(name_or_id)) return record;
  try {
    return store.find(to_string(parse_image_reference(name_or_id)));
  } catch (const Error&) {
    return std::nullopt;  // neither a stored name nor a valid reference
  }
}

std::map<std::string, std::vector<ImageUser>> images_in_use(const ImageStore& store, const fs::path& data_root) {
  std::map<std::string, std::vector<ImageUser>> users;
  const ContainerStore containers(data_root);
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(data_root / "containers", error)) {
    if (!fs::is_regular_file(entry.path() / "container.json")) continue;  // also skips names/
    std::optional<ContainerRecord> record;
    try {
      record = containers.load(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;  // a damaged record names no image we could protect
    }
    if (!record || record->image.empty()) continue;
    std::optional<ImageRecord> image;
    try {
      image = resolve_image(store, record->image);
    } catch (const Error&) {
      continue;
    }
    if (!image) continue;
    users[image->id].push_back(
        {record->name.empty() ? record->id : record->name, record->state == ContainerState::running});
  }
  return users;
}

GcReport remove_images_and_collect(ImageStore& store, StorageDriver& storage, const fs::path& data_root,
                                   const std::vector<std::string>& image_ids) {
  const std::vector<ImageRecord> before = store.list();
  const auto in_use = images_in_use(store, data_root);

  std::set<std::string> candidates;
  std::set<std::string> keep;
  for (const auto& image : before) {
    const bool removing = std::find(image_ids.begin(), image_ids.end(), image.id) != image_ids.end();
    auto& target = removing && !in_use.contains(image.id) ? candidates : keep;
    target.insert(image.layers.begin(), image.layers.end());
  }
  for (const auto& id : image_ids) store.remove_image(id);
  // Re-read: an image pulled meanwhile may share a layer.
  for (const auto& image : store.list()) keep.insert(image.layers.begin(), image.layers.end());

  GcReport report;
  for (const auto& layer : candidates) {
    if (keep.contains(layer)) continue;
    storage.remove_layer(layer);
    report.deleted_layers.push_back(layer);
  }
  for (const auto& blob : store.unreferenced_blobs()) {
    std::error_code error;
    const auto size = fs::file_size(store.blob_path(blob), error);
    store.remove_blob(blob);
    if (!error) report.reclaimed_bytes += size;
    report.deleted_blobs.push_back(blob);
  }
  return report;
}

}  // namespace mcore::engine
