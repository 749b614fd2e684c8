#pragma once
// The RegistryDriver conformance kit (no root): resolve returns the expected manifest, verified, by tag
// and by digest; fetch_blob streams every blob of it intact and resumes at an offset; unknown images,
// digests and blobs are errors; logout without saved credentials returns false; with a registry that
// checks credentials, a rejected login saves nothing and logout forgets an accepted one.
//
//   RegistryTarget target{.name = "mine", .factory = plugin_factory(".../mcore-registry-mine.so"),
//                         .images = [] { return RegistryImages{...}; }};
//   INSTANTIATE_TEST_SUITE_P(Mine, RegistryConformance, ::testing::Values(target), TargetName());
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "mcore/conformance/kit.hpp"
#include "mcore/registry_driver.hpp"

namespace mcore::conformance {

// What the driver is expected to serve. Returned by a function so that a target may start its source
// (a test registry) on first use.
struct RegistryImages {
  ImageReference served{};        // an image the driver can serve
  Platform platform{};            // selected when `served` names an index
  std::string manifest_digest{};  // the manifest resolve(served, platform) must return
  ImageReference missing{};       // an image it cannot serve
  // Optional (empty `login_registry`: those cases skip): a registry that checks credentials.
  std::string login_registry{};
  Credentials accepted_credentials{};
  Credentials rejected_credentials{};
};

struct RegistryTarget {
  std::string name{};
  DriverFactory factory{};  // required
  // The "registry" section. Point the driver's saved credentials below `scratch`: the kit logs in and out.
  ConfigFactory config{};
  std::function<RegistryImages()> images{};  // required; called once per case
  AvailabilityCheck unavailable{};
};

void PrintTo(const RegistryTarget& target, std::ostream* out);

class RegistryConformance : public ::testing::TestWithParam<RegistryTarget> {
 public:
  struct State;

 protected:
  RegistryConformance();
  ~RegistryConformance() override;
  void SetUp() override;
  void TearDown() override;
  std::unique_ptr<State> state_;
};

namespace detail {
int link_registry_conformance();
[[maybe_unused]] inline const int registry_conformance_linked = link_registry_conformance();
}  // namespace detail

}  // namespace mcore::conformance
