#pragma once
// The plugin descriptor: the one symbol a driver plugin exports. The loader reads it, checks ABI, kind and
// build tag, and only then calls `create`.
//
// ABI rules: the major version changes when an interface loses or reorders a virtual method, changes a
// method's signature, or changes a struct that crosses the boundary. A minor version may only append
// virtual methods at the end of an interface or append the descriptor's trailing fields; the engine calls
// an appended method only on plugins whose abi_minor says they have it. The loader refuses a plugin with
// another major or with a newer minor than the engine's. Until the SDK's first release (0.1.0 is not
// released) methods may still be appended to interfaces within 1.0, as RegistryDriver::logout was.
#include <cstdint>
#include <memory>
#include <string_view>

#include <boost/config.hpp>
#include <boost/dll/alias.hpp>
#include <boost/version.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <spdlog/version.h>

#include "mcore/host_context.hpp"

namespace mcore {

inline constexpr std::uint32_t kAbiMajor = 3;
inline constexpr std::uint32_t kAbiMinor = 1;

enum class DriverKind : std::uint32_t { storage = 1, network = 2, resource = 3, registry = 4 };

// "storage", "network", "resource", "registry"; "unknown" for any other value.
std::string_view to_string(DriverKind kind) noexcept;

// Base of every driver interface. Drivers are owned by the engine through shared_ptr and never outlive
// their library. A container's launcher calls the engine's drivers from a child process that shares the
// engine's memory and descriptors, like a thread of it (vfork-style): state a call leaves is seen by
// the next, only getpid() differs.
class Driver {
 public:
  virtual ~Driver();
};

struct PluginDescriptor {
  std::uint32_t abi_major;
  std::uint32_t abi_minor;
  DriverKind kind;
  const char* name;         // the driver's name as the config selects it ("overlay", "cgroup-v2")
  const char* version;      // the plugin's own version ("1.0.0")
  const char* description;  // one line for `mcore plugins`
  const char* build_tag;    // MCORE_BUILD_TAG as the plugin was compiled
  // Builds the driver. `context.config` is the role's config section. Throws Error on bad config or when
  // the host cannot support the driver. Must return an object of the interface matching `kind`.
  std::unique_ptr<Driver> (*create)(const HostContext& context);
};

}  // namespace mcore

#define MCORE_STRINGIFY_INNER(x) #x
#define MCORE_STRINGIFY(x) MCORE_STRINGIFY_INNER(x)

// Everything that must agree between the engine and a plugin for C++ objects (std::string, json,
// spdlog loggers) to cross the boundary safely.
#define MCORE_BUILD_TAG                                                                          \
  "gcc " __VERSION__ "; boost " BOOST_LIB_VERSION "; spdlog " MCORE_STRINGIFY(SPDLOG_VER_MAJOR) "." \
      MCORE_STRINGIFY(SPDLOG_VER_MINOR) "; fmt " MCORE_STRINGIFY(FMT_VERSION) "; json "           \
      MCORE_STRINGIFY(NLOHMANN_JSON_VERSION_MAJOR) "." MCORE_STRINGIFY(NLOHMANN_JSON_VERSION_MINOR)

// The exported symbol's name; the loader looks it up with boost::dll::shared_library::get_alias.
#define MCORE_PLUGIN_SYMBOL mcore_plugin_descriptor

// Exports `descriptor` (a namespace-scope `const mcore::PluginDescriptor`) from a plugin.
#define MCORE_PLUGIN(descriptor) BOOST_DLL_ALIAS(descriptor, mcore_plugin_descriptor)
