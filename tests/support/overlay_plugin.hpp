#pragma once
// The overlay storage driver from the build tree, loaded as mcore loads a plugin, for tests of the driver
// itself. Header-only: Boost.DLL and the SDK are all it needs.
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <boost/dll/shared_library.hpp>
#include <nlohmann/json.hpp>

#include "mcore/host_context.hpp"
#include "mcore/plugin.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore::test {

class OverlayPlugin {
 public:
  // Loads mcore-storage-overlay.so and makes a driver whose data and state roots are below `dir`, with
  // `config` as its "storage" section. Throws std::runtime_error when the plugin was not built or made
  // no StorageDriver, and whatever the driver throws on a bad config.
  explicit OverlayPlugin(const std::filesystem::path& dir, nlohmann::json config = nlohmann::json::object()) {
    const std::filesystem::path plugin =
        std::filesystem::path(MCORE_PLUGIN_BUILD_DIR) / "mcore-storage-overlay.so";
    if (!std::filesystem::exists(plugin)) {
      throw std::runtime_error(plugin.string() + " is missing: build target mcore-storage-overlay");
    }
    library_.load(plugin.string(), boost::dll::load_mode::rtld_now);
    const auto& descriptor = library_.get_alias<const PluginDescriptor>("mcore_plugin_descriptor");
    HostContext context;
    context.config = std::move(config);
    context.config_path = "storage";
    context.data_root = dir / "data";
    context.state_root = dir / "state";
    driver_.reset(dynamic_cast<StorageDriver*>(descriptor.create(context).release()));
    if (!driver_) throw std::runtime_error("the overlay plugin made no StorageDriver");
  }

  StorageDriver& driver() { return *driver_; }

 private:
  boost::dll::shared_library library_;  // declared first: it outlives the driver, whose code it holds
  std::unique_ptr<StorageDriver> driver_;
};

}  // namespace mcore::test
