#include "engine/context/self_command.hpp"

#include <unistd.h>

#include <cerrno>

#include "mcore/error.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

fs::path mcore_executable() { return fs::read_symlink("/proc/self/exe"); }

fs::path helper_executable(const std::string& name) {
  const fs::path dir = mcore_executable().parent_path();
  for (const fs::path& candidate : {dir / name, dir.parent_path() / "libexec/mcore" / name}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw Error(name + " is missing beside " + (dir / "mcore").string(), ENOENT,
              "install mcore completely (it belongs in ../libexec/mcore/)");
}

std::vector<std::string> self_command(const Engine& engine, const std::vector<std::string>& verb_args) {
  return engine_command(engine, mcore_executable(), verb_args);
}

std::vector<std::string> engine_command(const Engine& engine, const fs::path& program,
                                        const std::vector<std::string>& args) {
  std::vector<std::string> argv{program.string()};
  const GlobalOptions& options = engine.global_options();
  if (options.config_path) argv.insert(argv.end(), {"--config", fs::absolute(*options.config_path).string()});
  for (const auto& dir : options.plugin_dirs) argv.insert(argv.end(), {"--plugin-dir", fs::absolute(dir).string()});
  if (options.log_level) argv.insert(argv.end(), {"--log-level", *options.log_level});
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace mcore::engine
