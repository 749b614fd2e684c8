#pragma once
// The overlay storage driver from the build tree, loaded as mcore loads a plugin, for tests of the driver
// itself (plugin_driver.hpp).
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "mcore/host_context.hpp"
#include "mcore/storage_driver.hpp"
#include "plugin_driver.hpp"

namespace mcore::test {

class OverlayPlugin {
 public:
  // Loads mcore-storage-overlay.so and makes a driver whose data and state roots are below `dir`, with
  // `config` as its "storage" section. Throws std::runtime_error when the plugin was not built or made
  // no StorageDriver, and whatever the driver throws on a bad config.
  explicit OverlayPlugin(const std::filesystem::path& dir, nlohmann::json config = nlohmann::json::object()) {
    HostContext context;
    context.config = std::move(config);
    context.config_path = "storage";
    context.data_root = dir / "data";
    context.state_root = dir / "state";
    driver_ = load_plugin_driver<StorageDriver>("mcore-storage-overlay.so", context);
  }

  StorageDriver& driver() { return *driver_; }

 private:
  std::shared_ptr<StorageDriver> driver_;
};

}  // namespace mcore::test
