// The registry conformance kit (sdk/conformance) against the in-tree docker driver and Debian's
// docker-registry on 127.0.0.1 (registry_fixture.hpp): an anonymous one serving a two-layer image, and
// one with Basic auth for login and logout. Both start on first use and stop when the process exits.
#include "mcore/conformance/registry_conformance.hpp"

#include <filesystem>
#include <memory>

#include <gtest/gtest.h>

#include "oci_image_builder.hpp"
#include "registry_fixture.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace mcore::conformance;
using mcore::test::LayerEntry;
using mcore::test::RegistryFixture;

RegistryImages served_images() {
  static mcore::test::TempDir layout("mcore-conformance-layout");
  static RegistryFixture anonymous;
  static RegistryFixture with_auth({.auth = mcore::test::RegistryAuth::basic});
  static const mcore::test::BuiltImage image = [] {
    mcore::test::OciImageBuilder builder(layout.path() / "oci");
    auto built =
        builder.add_image({{LayerEntry::directory("etc"), LayerEntry::file("etc/marker", "conformance")},
                           {LayerEntry::file("bin/tool", mcore::test::incompressible_bytes(300000), 0755)}});
    builder.tag(built, "latest");
    anonymous.push(builder.dir(), "conformance/app:v1", "latest");
    return built;
  }();
  RegistryImages images;
  images.served = {anonymous.host(), "conformance/app", "v1", ""};
  images.platform = {"linux", "amd64", ""};
  images.manifest_digest = image.manifest_digest;
  images.missing = {anonymous.host(), "conformance/app", "no-such-tag", ""};
  images.login_registry = with_auth.host();
  images.accepted_credentials = {with_auth.options().username, with_auth.options().password, ""};
  images.rejected_credentials = {with_auth.options().username, "not-the-password", ""};
  return images;
}

INSTANTIATE_TEST_SUITE_P(
    InTree, RegistryConformance,
    ::testing::Values(RegistryTarget{
        .name = "docker",
        .factory = plugin_factory(fs::path(MCORE_PLUGIN_BUILD_DIR) / "mcore-registry-docker.so"),
        // Credentials go to the case's own file, never the user's ~/.docker/config.json.
        .config =
            [](const fs::path& scratch) {
              return nlohmann::json{{"auth_file", (scratch / "docker-config.json").string()},
                                    {"max_retries", 1},
                                    {"retry_delay_ms", 50}};
            },
        .images = served_images,
    }),
    TargetName());

}  // namespace
