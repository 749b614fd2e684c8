// The storage conformance kit (sdk/conformance) against the in-tree overlay driver, with the busybox
// root filesystem as an extra real layer.
#include "mcore/conformance/storage_conformance.hpp"

#include <filesystem>
#include <stdexcept>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace mcore::conformance;

// The shared busybox rootfs as an uncompressed tar, made once per process.
fs::path busybox_layer() {
  static mcore::test::TempDir dir("mcore-conformance-layer");
  const fs::path tar = dir.path() / "busybox.tar";
  if (!fs::exists(tar)) {
    const auto made = mcore::test::run_command(
        {"/bin/tar", "-C", mcore::test::shared_busybox_rootfs().string(), "-cf", tar.string(), "."});
    if (made.exit_code != 0) throw std::runtime_error("tar the busybox rootfs: " + made.err);
  }
  return tar;
}

INSTANTIATE_TEST_SUITE_P(InTree, StorageConformance,
                         ::testing::Values(StorageTarget{
                             .name = "overlay",
                             .factory = plugin_factory(fs::path(MCORE_PLUGIN_BUILD_DIR) /
                                                       "mcore-storage-overlay.so"),
                             .layer_tarball = busybox_layer,
                         }),
                         TargetName());

}  // namespace
