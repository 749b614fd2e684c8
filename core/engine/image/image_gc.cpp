#include "engine/image/image_gc.hpp"

#include <algorithm>
#include <set>
#include <system_error>

#include "engine/container/container_liveness.hpp"
#include "engine/container/container_store.hpp"
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

std::vector<ImageUser> ImageUsage::users_of(const std::string& image_id) const {
  std::vector<ImageUser> users = unknown;
  if (auto found = by_image.find(image_id); found != by_image.end()) {
    users.insert(users.end(), found->second.begin(), found->second.end());
  }
  return users;
}

ImageUsage images_in_use(const Config& config) {
  ImageUsage usage;
  const ContainerStore store(config.data_root);
  ContainerListing listing = store.list();
  for (auto& stored : listing.records) {
    if (stored.spec.image_id.empty()) continue;  // --rootfs
    const ContainerRecord record = observe_container(config, std::move(stored));
    const bool running = record.state == ContainerState::running || record.state == ContainerState::paused ||
                         record.state == ContainerState::restarting;
    usage.by_image[record.spec.image_id].push_back({record.name.empty() ? record.id : record.name, running});
  }
  for (const auto& unreadable : listing.unreadable) {
    const std::string name = store.name_of(unreadable.id);
    usage.unknown.push_back({(name.empty() ? unreadable.id.substr(0, 12) : name) + " (its record cannot be read)",
                             supervisor_alive(runtime_paths(config, unreadable.id))});
  }
  return usage;
}

GcReport remove_images_and_collect(ImageStore& store, StorageDriver& storage, const fs::path& data_root,
                                   const std::vector<std::string>& image_ids) {
  const FileLock collecting = store.hold_for_collection();
  for (const auto& id : image_ids) store.remove_image(id);
  // Containers keep their layers even when their image is gone (rmi -f), until they are removed.
  std::set<std::string> keep;
  for (const auto& image : store.list()) keep.insert(image.layers.begin(), image.layers.end());
  const ContainerListing containers = ContainerStore(data_root).list();
  for (const auto& container : containers.records) {
    keep.insert(container.spec.image_layers.begin(), container.spec.image_layers.end());
  }

  GcReport report;
  if (!containers.unreadable.empty()) {
    report.kept_all_layers = "every layer was kept: " + std::string(UnreadableRecordError(containers.unreadable.front()).what());
  }
  for (const auto& layer : storage.list_layers()) {
    // A record that cannot be read may list any layer.
    if (keep.contains(layer.id) || !containers.unreadable.empty()) continue;
    storage.remove_layer(layer.id);
    report.deleted_layers.push_back(layer.id);
  }
  for (auto& line : store.remove_unfinished_blobs(report.reclaimed_bytes)) report.unfinished.push_back(std::move(line));
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
