#pragma once
// One in-tree plugin's driver from the build tree, for the tests of that driver: loaded through the
// conformance kit's plugin_factory, so these tests load plugins the way a plugin author's kit run does
// (ABI, build tag and descriptor checked) instead of with a copy of that code. The driver keeps its
// library mapped for as long as it lives.
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "mcore/conformance/kit.hpp"
#include "mcore/host_context.hpp"

namespace mcore::test {

// `file_name` ("mcore-storage-overlay.so") in MCORE_PLUGIN_BUILD_DIR, made into an `Interface` driver
// with `context`. Throws std::runtime_error when the plugin was not built or made another kind of
// driver, and whatever the driver throws on a bad config.
template <class Interface>
std::shared_ptr<Interface> load_plugin_driver(const std::string& file_name, const HostContext& context) {
  const auto plugin = std::filesystem::path(MCORE_PLUGIN_BUILD_DIR) / file_name;
  if (!std::filesystem::exists(plugin)) {
    throw std::runtime_error(plugin.string() + " is missing: build it first");
  }
  auto typed = std::dynamic_pointer_cast<Interface>(conformance::plugin_factory(plugin)(context));
  if (!typed) throw std::runtime_error(file_name + " made a driver of another kind");
  return typed;
}

}  // namespace mcore::test
