// The plugin's descriptor: the only symbol mcore-network-pasta.so exports.
#include "mcore/plugin.hpp"

#include "pasta_driver.hpp"

namespace {

const mcore::PluginDescriptor descriptor{
    .abi_major = mcore::kAbiMajor,
    .abi_minor = mcore::kAbiMinor,
    .kind = mcore::DriverKind::network,
    .name = "pasta",
    .version = "0.1.0",
    .description = "user-mode networking with pasta (passt): outbound traffic and published ports, no root",
    .build_tag = MCORE_BUILD_TAG,
    .create = [](const mcore::HostContext& context) -> std::unique_ptr<mcore::Driver> {
      return std::make_unique<mcore::pasta::PastaDriver>(context);
    },
};

}  // namespace

MCORE_PLUGIN(descriptor)
