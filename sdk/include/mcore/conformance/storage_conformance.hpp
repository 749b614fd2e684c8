#pragma once
// The StorageDriver conformance kit: prepare_rootfs describes mounts and mounts nothing, gives the same
// plan twice and keeps the writable layer; release_rootfs is idempotent; missing layers and lowers are
// errors that leave nothing; the layer store applies all or nothing, concurrently for different ids,
// and remove_layer is idempotent; write_diff reports the writable layer's changes. As root, the plan is
// mounted in a child's private mount namespace (gone with the child) to check the root it gives.
//
//   StorageTarget target{.name = "mine", .factory = plugin_factory("/path/mcore-storage-mine.so")};
//   INSTANTIATE_TEST_SUITE_P(Mine, StorageConformance, ::testing::Values(target), TargetName());
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "mcore/conformance/kit.hpp"

namespace mcore::conformance {

struct StorageTarget {
  std::string name{};       // for test names and messages
  DriverFactory factory{};  // required
  ConfigFactory config{};   // the "storage" section; {} when unset
  // Where each case makes its directory (the driver's data and state roots, lower directories). It must
  // be a file system the driver can use (overlayfs: not overlayfs itself).
  std::filesystem::path scratch_parent = "/var/tmp";
  // false: the driver keeps the SDK's default layer-store methods, which must throw Error(ENOTSUP).
  bool layer_store = true;
  // false: write_diff keeps the SDK's default, which must throw Error(ENOTSUP).
  bool write_diff = true;
  // Optional: returns an uncompressed tar (a real image layer) that the driver must apply; its regular
  // files must appear in the mounted root.
  std::function<std::filesystem::path()> layer_tarball{};
  AvailabilityCheck unavailable{};
};

void PrintTo(const StorageTarget& target, std::ostream* out);

class StorageConformance : public ::testing::TestWithParam<StorageTarget> {
 public:
  struct State;

 protected:
  StorageConformance();
  ~StorageConformance() override;
  void SetUp() override;
  void TearDown() override;
  std::unique_ptr<State> state_;
};

namespace detail {
int link_storage_conformance();
// Including this header pulls the kit's cases out of the static library.
[[maybe_unused]] inline const int storage_conformance_linked = link_storage_conformance();
}  // namespace detail

}  // namespace mcore::conformance
