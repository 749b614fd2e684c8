// The plugin's descriptor: the only symbol mcore-registry-docker.so exports.
#include "mcore/plugin.hpp"

#include "docker_registry_driver.hpp"

namespace {

const mcore::PluginDescriptor descriptor{
    .abi_major = mcore::kAbiMajor,
    .abi_minor = mcore::kAbiMinor,
    .kind = mcore::DriverKind::registry,
    .name = "docker",
    .version = "0.1.0",
    .description = "Docker Registry HTTP API v2 / OCI distribution client",
    .build_tag = MCORE_BUILD_TAG,
    .create = [](const mcore::HostContext& context) -> std::unique_ptr<mcore::Driver> {
      return std::make_unique<mcore::registry::DockerRegistryDriver>(context);
    },
};

}  // namespace

MCORE_PLUGIN(descriptor)
