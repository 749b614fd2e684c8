#pragma once
// The ResourceDriver conformance kit (root; cases skip otherwise): create, list, stats, group_path and
// destroy round trips; destroy kills what runs and is idempotent, also for unknown ids; invalid limits
// are errors naming the limit that leave nothing; stats report the limits set; add_process places a
// process; freeze and thaw are idempotent; kill_all signals every process; the pids limit holds; only
// Docker's default devices open unless the request is unrestricted. Each case uses a cgroup parent of
// its own, which the target removes afterwards.
//
//   ResourceTarget target{.name = "mine", .factory = plugin_factory(".../mcore-resource-mine.so"),
//                         .config = [](const std::string& parent) { return nlohmann::json{{"cgroup_parent",
//                         parent}}; }, .remove_parent = [](const std::string& parent) { /* rmdir it in each
//                         hierarchy */ }};
//   INSTANTIATE_TEST_SUITE_P(Mine, ResourceConformance, ::testing::Values(target), TargetName());
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mcore/conformance/kit.hpp"

namespace mcore::conformance {

struct ResourceTarget {
  std::string name{};
  DriverFactory factory{};  // required
  // The "resource" section that makes the driver put containers below `cgroup_parent`. Required.
  std::function<nlohmann::json(const std::string& cgroup_parent)> config{};
  // Each case's parent is this prefix and a random suffix. Relative names keep groups below the test's own.
  std::string cgroup_parent_prefix = "mcore-conformance";
  // Removes a case's parent and anything below it (the driver removes only the containers' groups).
  std::function<void(const std::string& cgroup_parent)> remove_parent{};
  AvailabilityCheck unavailable{};
};

void PrintTo(const ResourceTarget& target, std::ostream* out);

class ResourceConformance : public ::testing::TestWithParam<ResourceTarget> {
 public:
  struct State;

 protected:
  ResourceConformance();
  ~ResourceConformance() override;
  void SetUp() override;
  void TearDown() override;
  std::unique_ptr<State> state_;
};

namespace detail {
int link_resource_conformance();
[[maybe_unused]] inline const int resource_conformance_linked = link_resource_conformance();
}  // namespace detail

}  // namespace mcore::conformance
