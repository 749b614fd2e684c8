// The network conformance kit (sdk/conformance) against the in-tree bridge driver. The kit runs every
// case in network and mount namespaces of its own; the bridge and table names are the driver's config.
#include "mcore/conformance/network_conformance.hpp"

#include <filesystem>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;
using namespace mcore::conformance;

INSTANTIATE_TEST_SUITE_P(
    InTree, NetworkConformance,
    ::testing::Values(NetworkTarget{
        .name = "bridge",
        .factory = plugin_factory(fs::path(MCORE_PLUGIN_BUILD_DIR) / "mcore-network-bridge.so"),
        .config =
            [](const fs::path&) {
              return nlohmann::json{
                  {"bridge", "mcconf0"}, {"table", "mcore_conformance"}, {"ip_forward", false}};
            },
        .default_network = "bridge",
    }),
    TargetName());

}  // namespace
