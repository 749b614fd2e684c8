#include "engine/context/plugin_loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <system_error>

#include <boost/dll/shared_library.hpp>

#include "mcore/error.hpp"

namespace mcore::engine {

namespace {

namespace fs = std::filesystem;

constexpr const char* kDescriptorSymbol = MCORE_STRINGIFY(MCORE_PLUGIN_SYMBOL);

std::string abi_text(std::uint32_t major, std::uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

const std::string& engine_abi() {
  static const std::string text = abi_text(kAbiMajor, kAbiMinor);
  return text;
}

// A plugin file opened and checked against this engine (not yet against the role it is wanted for).
struct CheckedPlugin {
  PluginInfo info;
  std::string reason;  // why it is refused, "" when compatible
  std::string hint;    // the fix
  // Both set only when compatible.
  std::shared_ptr<boost::dll::shared_library> library;
  const PluginDescriptor* descriptor = nullptr;

  CheckedPlugin& refuse(std::string why, std::string fix) {
    reason = std::move(why);
    hint = std::move(fix);
    return *this;
  }
  Error error() const { return Error(info.file.string() + ": " + reason, 0, hint); }
};

bool has_elf_header(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  constexpr char kElfMagic[4] = {0x7f, 'E', 'L', 'F'};
  char magic[4] = {};
  return in.read(magic, sizeof magic) && std::memcmp(magic, kElfMagic, sizeof magic) == 0;
}

// dlerror() text usually starts with the file name, which the message already carries.
std::string dlerror_text(const fs::path& file) {
  const char* raw = ::dlerror();
  std::string text = raw != nullptr ? raw : "unknown dlopen error";
  const std::string prefix = file.string() + ": ";
  if (text.starts_with(prefix)) text.erase(0, prefix.size());
  return text;
}

bool file_exists(const fs::path& path) {
  std::error_code ignored;
  return fs::exists(path, ignored);
}

const char* or_empty(const char* text) { return text != nullptr ? text : ""; }

CheckedPlugin check_plugin(const fs::path& file) {
  CheckedPlugin plugin;
  plugin.info.file = file;
  if (!file_exists(file)) {
    return plugin.refuse("the file does not exist", "install the plugin there, or correct the path to it");
  }
  // Checked before dlopen so that a stray file gets a plain answer instead of a loader error.
  if (!has_elf_header(file)) {
    return plugin.refuse("not a shared object (no ELF header)",
                         "remove it from the plugin directory; plugins are built with mcore_add_plugin()");
  }

  boost::dll::fs::error_code load_error;
  auto library = std::make_shared<boost::dll::shared_library>(boost::dll::fs::path(file.string()),
                                                              boost::dll::load_mode::rtld_now, load_error);
  if (load_error) {
    const std::string text = dlerror_text(file);
    if (text.find("undefined symbol") != std::string::npos) {
      return plugin.refuse("cannot be loaded, it has an unresolved symbol: " + text,
                           "rebuild the plugin against this mcore's SDK, linked with -Wl,--no-undefined "
                           "(mcore_add_plugin() does) so that a missing symbol fails its build");
    }
    return plugin.refuse("cannot be loaded: " + text,
                         "check that the libraries it needs are installed (ldd " + file.string() +
                             ") and that it was built for this machine");
  }
  if (!library->has(kDescriptorSymbol)) {
    return plugin.refuse(std::string("not an mcore plugin: it does not export ") + kDescriptorSymbol,
                         "export a descriptor with MCORE_PLUGIN(descriptor) from <mcore/plugin.hpp>");
  }
  const auto& descriptor = library->get_alias<const PluginDescriptor>(kDescriptorSymbol);

  PluginInfo& info = plugin.info;
  info.abi_major = descriptor.abi_major;
  info.abi_minor = descriptor.abi_minor;
  const std::string plugin_abi = abi_text(descriptor.abi_major, descriptor.abi_minor);
  if (descriptor.abi_major != kAbiMajor) {
    // Another major may lay the descriptor out differently: read nothing more from it.
    return plugin.refuse("plugin ABI " + plugin_abi + " is incompatible with mcore's ABI " + engine_abi() +
                             " (the major versions differ)",
                         "rebuild the plugin against this mcore's SDK (ABI " + engine_abi() +
                             "), or use an mcore release with plugin ABI " +
                             std::to_string(descriptor.abi_major) + ".x");
  }
  // Minor versions only append fields, so the ones this engine knows are safe to read from here on.
  info.kind = std::string(to_string(descriptor.kind));
  info.name = or_empty(descriptor.name);
  info.version = or_empty(descriptor.version);
  info.description = or_empty(descriptor.description);
  if (descriptor.abi_minor > kAbiMinor) {
    return plugin.refuse("plugin ABI " + plugin_abi + " is newer than mcore's ABI " + engine_abi(),
                         "upgrade mcore to a release with plugin ABI " + plugin_abi +
                             " or later, or rebuild the plugin against this mcore's SDK");
  }
  const std::string plugin_tag = or_empty(descriptor.build_tag);
  if (plugin_tag != MCORE_BUILD_TAG) {
    return plugin.refuse("built with \"" + plugin_tag +
                             "\", but mcore was built with \"" MCORE_BUILD_TAG "\" (plugin ABI " +
                             plugin_abi + ", mcore ABI " + engine_abi() + ")",
                         "rebuild the plugin with the compiler and the Boost, spdlog, fmt and nlohmann-json "
                         "versions mcore was built with: C++ objects cross the plugin boundary");
  }
  if (info.kind == "unknown" || info.name.empty() || descriptor.create == nullptr) {
    return plugin.refuse("its descriptor is incomplete (unknown kind, no name or no create function)",
                         "fill in every field of the plugin's PluginDescriptor");
  }
  info.compatible = true;
  plugin.library = std::move(library);
  plugin.descriptor = &descriptor;
  return plugin;
}

PluginInfo to_info(const CheckedPlugin& plugin) {
  PluginInfo info = plugin.info;
  if (!info.compatible) info.problem = plugin.reason + "; " + plugin.hint;
  return info;
}

}  // namespace

std::string plugin_file_name(DriverKind kind, const std::string& driver_name) {
  return "mcore-" + std::string(to_string(kind)) + "-" + driver_name + ".so";
}

PluginLoader::PluginLoader(std::vector<fs::path> search_dirs) : search_dirs_(std::move(search_dirs)) {}

std::vector<PluginInfo> PluginLoader::discover() const {
  std::vector<PluginInfo> found;
  std::set<std::string> seen_names;
  for (const auto& dir : search_dirs_) {
    std::error_code error;
    std::vector<fs::path> files;
    // A listed directory that does not exist (yet) is not an error: the install dir often does not.
    for (const auto& entry : fs::directory_iterator(dir, error)) {
      if (entry.path().extension() == ".so" && entry.is_regular_file(error)) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      if (!seen_names.insert(file.filename().string()).second) continue;
      CheckedPlugin plugin = check_plugin(file);
      // In a search directory the file name is how a driver is found: a wrong one makes it unreachable.
      if (plugin.info.compatible) {
        const std::string expected = plugin_file_name(plugin.descriptor->kind, plugin.info.name);
        if (file.filename() != expected) {
          plugin.info.compatible = false;
          plugin.refuse("it provides the " + plugin.info.kind + " driver \"" + plugin.info.name +
                            "\", which mcore looks for as " + expected,
                        "rename the file to " + expected + ", or name it in the config's plugin_paths." +
                            plugin.info.kind);
        }
      }
      found.push_back(to_info(plugin));
    }
  }
  return found;
}

PluginInfo PluginLoader::inspect(const fs::path& file) const { return to_info(check_plugin(file)); }

fs::path PluginLoader::locate(DriverKind kind, const std::string& name,
                              const std::optional<fs::path>& explicit_path) const {
  const std::string role(to_string(kind));
  if (explicit_path) {
    if (!file_exists(*explicit_path)) {
      throw Error(
          "plugin file " + explicit_path->string() + " (plugin_paths." + role + ") does not exist", 0,
          "fix plugin_paths." + role + " in the config, or remove it to search the plugin directories");
    }
    return *explicit_path;
  }
  const std::string file_name = plugin_file_name(kind, name);
  for (const auto& dir : search_dirs_) {
    if (file_exists(dir / file_name)) return dir / file_name;
  }
  std::string searched;
  for (const auto& dir : search_dirs_) searched += (searched.empty() ? "" : ", ") + dir.string();
  throw Error(
      "no " + role + " driver \"" + name + "\": " + file_name + " is in none of the plugin directories (" +
          (searched.empty() ? "none configured" : searched) + ")",
      0,
      "install the plugin, add its directory with --plugin-dir or MCORE_PLUGIN_PATH, or set plugin_paths." +
          role + " in the config; 'mcore plugins' lists the drivers found");
}

std::shared_ptr<Driver> PluginLoader::load(DriverKind kind, const std::string& name,
                                           const std::optional<fs::path>& explicit_path,
                                           const HostContext& context, std::uint32_t* abi_minor) const {
  const std::string role(to_string(kind));
  const fs::path file = locate(kind, name, explicit_path);
  CheckedPlugin plugin = check_plugin(file);
  if (!plugin.info.compatible) throw plugin.error();

  const PluginDescriptor& descriptor = *plugin.descriptor;
  if (descriptor.kind != kind) {
    throw plugin
        .refuse("it is a " + plugin.info.kind + " plugin, but a " + role + " driver was asked for",
                "select it as the " + plugin.info.kind + " driver, or point plugin_paths." + role + " at a " +
                    role + " plugin")
        .error();
  }
  if (plugin.info.name != name) {
    throw plugin
        .refuse("it provides the " + role + " driver \"" + plugin.info.name + "\", not \"" + name + "\"",
                "select it with drivers." + role + " = \"" + plugin.info.name + "\", or install it as " +
                    plugin_file_name(kind, plugin.info.name))
        .error();
  }

  const std::string what = role + " driver \"" + name + "\"";
  std::unique_ptr<Driver> driver;
  try {
    driver = descriptor.create(context);
  } catch (Error& error) {
    error.add_context(what);
    throw;
  } catch (const std::exception& error) {
    throw Error(what + ": " + error.what(), 0,
                "this is a bug in " + file.string() + ": drivers throw mcore::Error");
  } catch (...) {
    throw Error(what + ": unknown exception", 0,
                "this is a bug in " + file.string() + ": drivers throw mcore::Error");
  }
  if (!driver) {
    throw Error(what + ": " + file.string() + " created no driver", 0,
                "this is a bug in the plugin: create() must return a driver or throw mcore::Error");
  }
  // What a driver throws may outlive the driver: an exception unwinds past the engine that owned it, and
  // its what() is the plugin's code. So a library that made a driver stays mapped until the process
  // ends (RTLD_NODELETE on the handle already open; plugins are never unloaded during a run anyway).
  if (::dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) == nullptr) {
    throw Error("keep " + file.string() + " loaded: " + dlerror_text(file));
  }
  if (abi_minor != nullptr) *abi_minor = descriptor.abi_minor;
  // The deleter owns the library, so the plugin's code stays mapped until the driver is gone.
  return std::shared_ptr<Driver>(driver.release(),
                                 [library = plugin.library](Driver* owned) { delete owned; });
}

}  // namespace mcore::engine
