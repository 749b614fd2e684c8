#include "engine/self_command.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

fs::path mcore_executable() { return fs::read_symlink("/proc/self/exe"); }

std::vector<std::string> self_command(const Engine& engine, const std::vector<std::string>& verb_args) {
  std::vector<std::string> argv{mcore_executable().string()};
  const GlobalOptions& options = engine.global_options();
  if (options.config_path) argv.insert(argv.end(), {"--config", fs::absolute(*options.config_path).string()});
  for (const auto& dir : options.plugin_dirs) argv.insert(argv.end(), {"--plugin-dir", fs::absolute(dir).string()});
  if (options.log_level) argv.insert(argv.end(), {"--log-level", *options.log_level});
  argv.insert(argv.end(), verb_args.begin(), verb_args.end());
  return argv;
}

}  // namespace mcore::engine
