#pragma once
// What every conformance kit shares: how a kit gets the driver under test, and how its cases are named.
// A kit is a value-parameterized GoogleTest suite; the author instantiates it with a target describing
// the driver (see <kind>_conformance.hpp), e.g.
//   INSTANTIATE_TEST_SUITE_P(Mine, StorageConformance, ::testing::Values(target), TargetName());
#include <cctype>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mcore/host_context.hpp"
#include "mcore/plugin.hpp"

namespace mcore::conformance {

// Makes the driver under test from the context the kit fills in: data and state roots in a fresh
// directory of the case's own, the target's config section, a logger whose output the kit prints when
// the case fails. Called once (or a few times) per case; the driver is dropped at the end of the case.
// Throws what the driver's create throws. For a driver compiled into the test, a lambda does:
//   [](const HostContext& context) { return std::make_shared<MyDriver>(context); }
using DriverFactory = std::function<std::shared_ptr<Driver>(const HostContext& context)>;

// A factory that opens `plugin_file` on first use as mcore does (Boost.DLL, the exported descriptor),
// refuses it as mcore would (ABI major or a newer minor, build tag, an incomplete descriptor) and calls
// the descriptor's create. The library stays loaded for as long as the factory or a driver lives.
// Throws Error naming the file and the problem.
DriverFactory plugin_factory(std::filesystem::path plugin_file);

// The driver's config section for one case. `scratch` is the case's own directory (removed afterwards):
// put whatever the driver writes outside its data and state roots below it (a credentials file).
using ConfigFactory = std::function<nlohmann::json(const std::filesystem::path& scratch)>;

// Why the host cannot run the driver ("no cgroup v2 memory controller"); "" when it can. A target whose
// check returns a reason has its cases skipped with it.
using AvailabilityCheck = std::function<std::string()>;

bool running_as_root();

// Test names from the target's `name`: "cgroup-v1" becomes "cgroup_v1".
struct TargetName {
  template <class Target>
  std::string operator()(const ::testing::TestParamInfo<Target>& info) const {
    std::string name = info.param.name.empty() ? "target" + std::to_string(info.index) : info.param.name;
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return name;
  }
};

}  // namespace mcore::conformance
