// The network conformance kit (sdk/conformance) against the in-tree bridge and pasta drivers. The kit
// runs every case in network and mount namespaces of its own; the bridge and table names are the
// bridge driver's config.
#include "mcore/conformance/network_conformance.hpp"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;
using namespace mcore::conformance;

// pasta copies the host's addresses and routes into the container: the kit's namespace gets an
// uplink. Its user networks' bridges live in a namespace of the driver's own.
std::string pasta_missing() {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/local/bin"}) {
    if (::access((fs::path(dir) / "pasta").c_str(), X_OK) == 0) return "";
  }
  return "pasta is not installed (apt-get install passt)";
}

INSTANTIATE_TEST_SUITE_P(
    InTree, NetworkConformance,
    ::testing::Values(
        NetworkTarget{
            .name = "bridge",
            .factory = plugin_factory(fs::path(MCORE_PLUGIN_BUILD_DIR) / "mcore-network-bridge.so"),
            .config =
                [](const fs::path&) {
                  return nlohmann::json{
                      {"bridge", "mcconf0"}, {"table", "mcore_conformance"}, {"ip_forward", false}};
                },
            .default_network = "bridge",
        },
        NetworkTarget{
            .name = "pasta",
            .factory = plugin_factory(fs::path(MCORE_PLUGIN_BUILD_DIR) / "mcore-network-pasta.so"),
            .config = {},
            .default_network = "pasta",
            .unavailable = pasta_missing,
            .uplink = true,
        }),
    TargetName());

}  // namespace
