#pragma once
// Finds, checks and opens driver plugins. A plugin for role R and driver N is the file mcore-R-N.so in
// the first search directory that has it, unless the config names an absolute path for the role.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mcore/host_context.hpp"
#include "mcore/plugin.hpp"

namespace mcore::engine {

struct PluginInfo {
  std::filesystem::path file;
  std::string kind;  // "storage", ... ("" when the descriptor could not be read)
  std::string name;
  std::string version;
  std::string description;
  std::uint32_t abi_major = 0;
  std::uint32_t abi_minor = 0;
  bool compatible = false;
  std::string problem;  // why it is refused, with the fix; "" when compatible
};

// "mcore-resource-cgroup-v2.so"
std::string plugin_file_name(DriverKind kind, const std::string& driver_name);

class PluginLoader {
 public:
  // `search_dirs` in priority order: --plugin-dir, MCORE_PLUGIN_PATH, config plugin_dirs, install dir.
  explicit PluginLoader(std::vector<std::filesystem::path> search_dirs);

  const std::vector<std::filesystem::path>& search_dirs() const { return search_dirs_; }

  // Every *.so in the search directories, each opened and checked (nothing is created). A file name
  // found in two directories is listed once, from the directory that wins. A file not named after the
  // driver it provides (plugin_file_name) is incompatible: load() would never find it.
  std::vector<PluginInfo> discover() const;

  // Opens and checks one plugin file like discover() does, without creating a driver.
  PluginInfo inspect(const std::filesystem::path& file) const;

  // The file load() would open for (kind, name): `explicit_path` when given, else the first search
  // directory that has plugin_file_name(kind, name). Throws Error like load() when there is none.
  std::filesystem::path locate(DriverKind kind, const std::string& name,
                               const std::optional<std::filesystem::path>& explicit_path) const;

  // Opens the plugin for (kind, name) — `explicit_path` when given — checks its descriptor and creates
  // the driver. The returned pointer keeps the library loaded for as long as the driver lives.
  // Throws Error naming the file, what is wrong and the fix: not found (listing the directories
  // searched), not a loadable shared object or an unresolved symbol (dlerror's text), no descriptor,
  // ABI major differs, ABI minor newer than the engine's, kind or name not what was asked, build tag
  // differs. `abi_minor`, when given, receives the minor the plugin was built with: the engine calls a
  // method appended in a later minor only on plugins that have it.
  std::shared_ptr<Driver> load(DriverKind kind, const std::string& name,
                               const std::optional<std::filesystem::path>& explicit_path,
                               const HostContext& context, std::uint32_t* abi_minor = nullptr) const;

 private:
  std::vector<std::filesystem::path> search_dirs_;
};

}  // namespace mcore::engine
