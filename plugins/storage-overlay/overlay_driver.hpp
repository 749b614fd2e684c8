#pragma once
// overlayfs storage driver: each container gets <root>/containers/<id>/{upper,work,merged} and one overlay
// mount description stacking its lower directories under `upper`. Image layers live in
// <root>/layers/<hex of the diff_id>/diff, each reachable through a short symlink <root>/l/<name> that
// keeps long layer stacks within mount(2)'s one page of options.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "mcore/host_context.hpp"
#include "mcore/storage_driver.hpp"
#include "mcore/user_namespace.hpp"

namespace mcore::overlay {

class OverlayStorageDriver final : public StorageDriver {
 public:
  // Reads the "storage" config section (README.md); throws Error on bad config. Touches no files.
  explicit OverlayStorageDriver(const HostContext& context);

  RootfsPlan prepare_rootfs(const RootfsRequest& request) override;
  void release_rootfs(const std::string& container_id) override;
  std::vector<std::string> list_rootfs() const override;

  std::optional<LayerInfo> find_layer(const std::string& layer_id) const override;
  std::vector<LayerInfo> list_layers() const override;
  LayerInfo apply_layer(const std::string& layer_id, ByteSource& tar_stream) override;
  void remove_layer(const std::string& layer_id) override;
  void write_diff(const std::string& container_id, ByteSink& tar_out) override;
  std::vector<std::string> sweep_interrupted() override;

 private:
  std::filesystem::path containers_dir() const { return root_ / "containers"; }
  std::filesystem::path layers_dir() const { return root_ / "layers"; }
  std::filesystem::path links_dir() const { return root_ / "l"; }
  // The directory overlay stacks for a stored layer, relative to root_: its short link when it has one.
  std::filesystem::path layer_lower(const std::string& layer_id) const;
  // Creates (or finds) the short link to layer `hex` and returns its name.
  std::string make_short_link(const std::string& hex) const;
  // The request's lower directories, topmost first as overlay's lowerdir wants them: store layers
  // relative to root_, external lowers absolute.
  std::vector<std::filesystem::path> lower_dirs(const RootfsRequest& request) const;

  std::filesystem::path root_;
  std::vector<std::string> mount_options_;
  // Overlay keeps its marks in trusted.overlay.* attributes, which only the initial namespace's root
  // may write. A user namespace's root (rootless mcore) mounts with userxattr, and overlay then reads
  // user.overlay.* (Linux 5.11): the layers it unpacks carry those.
  bool user_attributes_ = !in_initial_user_namespace();
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace mcore::overlay
