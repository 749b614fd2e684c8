// The plugin's descriptor: the only symbol mcore-network-bridge.so exports.
#include "mcore/plugin.hpp"

#include "bridge_driver.hpp"

namespace {

const mcore::PluginDescriptor descriptor{
    .abi_major = mcore::kAbiMajor,
    .abi_minor = mcore::kAbiMinor,
    .kind = mcore::DriverKind::network,
    .name = "bridge",
    .version = "0.1.0",
    .description = "Linux bridge, veth pairs, IPAM leases, NAT and published ports (nftables)",
    .build_tag = MCORE_BUILD_TAG,
    .create = [](const mcore::HostContext& context) -> std::unique_ptr<mcore::Driver> {
      return std::make_unique<mcore::bridge::BridgeDriver>(context);
    },
};

}  // namespace

MCORE_PLUGIN(descriptor)
