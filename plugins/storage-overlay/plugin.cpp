// The plugin's descriptor: the only symbol mcore-storage-overlay.so exports.
#include "mcore/plugin.hpp"

#include "overlay_driver.hpp"

namespace {

const mcore::PluginDescriptor descriptor{
    .abi_major = mcore::kAbiMajor,
    .abi_minor = mcore::kAbiMinor,
    .kind = mcore::DriverKind::storage,
    .name = "overlay",
    .version = "0.1.0",
    .description = "overlayfs container root filesystems",
    .build_tag = MCORE_BUILD_TAG,
    .create = [](const mcore::HostContext& context) -> std::unique_ptr<mcore::Driver> {
      return std::make_unique<mcore::overlay::OverlayStorageDriver>(context);
    },
};

}  // namespace

MCORE_PLUGIN(descriptor)
