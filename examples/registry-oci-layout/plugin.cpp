// The plugin's descriptor: the only symbol mcore-registry-oci-layout.so exports.
#include "mcore/plugin.hpp"

#include "oci_layout_driver.hpp"

namespace {

const mcore::PluginDescriptor descriptor{
    .abi_major = mcore::kAbiMajor,
    .abi_minor = mcore::kAbiMinor,
    .kind = mcore::DriverKind::registry,
    .name = "oci-layout",
    .version = "0.1.0",
    .description = "images from OCI image layout directories on disk (offline, air-gapped)",
    .build_tag = MCORE_BUILD_TAG,
    .create = [](const mcore::HostContext& context) -> std::unique_ptr<mcore::Driver> {
      return std::make_unique<oci_layout::OciLayoutRegistryDriver>(context);
    },
};

}  // namespace

MCORE_PLUGIN(descriptor)
