// The SDK's Registry conformance kit against this driver, loaded from the plugin file as mcore loads it.
// It serves the image the environment names, from an OCI layout someone else wrote:
//   OCI_LAYOUT_ROOT=/srv/oci              the driver's "root"
//   OCI_LAYOUT_IMAGE=conformance/app:v1   an image there (layout <root>/conformance/app, tag v1)
//   OCI_LAYOUT_DIGEST=sha256:...          its manifest's digest, for this machine's platform
// (mcore's tests/integration/oci_layout_example_test.cpp writes such a layout and runs this.)
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <sys/utsname.h>

#include <gtest/gtest.h>

#include "mcore/conformance/registry_conformance.hpp"
#include "mcore/image_reference.hpp"

namespace {

using namespace mcore::conformance;

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) + " is not set; see conformance_test.cpp for what to set");
  }
  return value;
}

std::string host_architecture() {
  utsname names{};
  ::uname(&names);
  const std::string machine = names.machine;
  return machine == "x86_64" ? "amd64" : machine == "aarch64" ? "arm64" : machine;
}

RegistryImages served_images() {
  RegistryImages images;
  images.served = mcore::parse_image_reference(environment("OCI_LAYOUT_IMAGE"));
  images.platform = {"linux", host_architecture(), ""};
  images.manifest_digest = environment("OCI_LAYOUT_DIGEST");
  images.missing = images.served;
  images.missing.tag = "no-such-tag";
  images.missing.digest.clear();
  return images;
}

INSTANTIATE_TEST_SUITE_P(
    OciLayout, RegistryConformance,
    ::testing::Values(RegistryTarget{
        .name = "oci-layout",
        .factory = plugin_factory(OCI_LAYOUT_PLUGIN_FILE),
        .config = [](const std::filesystem::path&) { return nlohmann::json{{"root", environment("OCI_LAYOUT_ROOT")}}; },
        .images = served_images,
    }),
    TargetName());

}  // namespace
