#pragma once
// overlayfs storage driver: each container gets <root>/containers/<id>/{upper,work,merged} and one overlay
// mount description stacking its lower directories under `upper`. The layer store comes later.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "mcore/host_context.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore::overlay {

class OverlayStorageDriver final : public StorageDriver {
 public:
  // Reads the "storage" config section (README.md); throws Error on bad config. Touches no files.
  explicit OverlayStorageDriver(const HostContext& context);

  RootfsPlan prepare_rootfs(const RootfsRequest& request) override;
  void release_rootfs(const std::string& container_id) override;
  std::vector<std::string> list_rootfs() const override;

 private:
  std::filesystem::path containers_dir() const { return root_ / "containers"; }
  // Where the layer store (a later issue) keeps layer `layer_id`'s unpacked tree.
  std::filesystem::path layer_dir(const std::string& layer_id) const;
  // The request's lower directories, topmost first as overlay's lowerdir wants them.
  std::vector<std::filesystem::path> lower_dirs(const RootfsRequest& request) const;

  std::filesystem::path root_;
  std::vector<std::string> mount_options_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace mcore::overlay
