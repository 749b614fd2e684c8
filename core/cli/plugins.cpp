#include <algorithm>
#include <iostream>

#include "cli/output.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"

namespace mcore::cli {

namespace {

std::string abi_text(const engine::PluginInfo& plugin) {
  // ABI 0.x does not exist: 0 means the descriptor could not be read.
  if (plugin.abi_major == 0) return "";
  return std::to_string(plugin.abi_major) + "." + std::to_string(plugin.abi_minor);
}

std::string status_text(const engine::PluginInfo& plugin) {
  return plugin.compatible ? "ok" : "incompatible: " + plugin.problem;
}

// The search directories' plugins, then those the config names by path outside of them.
std::vector<engine::PluginInfo> all_plugins(engine::Engine& engine) {
  auto plugins = engine.plugins().discover();
  for (const auto& [kind, path] : engine.config().plugin_paths) {
    const bool listed = std::any_of(plugins.begin(), plugins.end(),
                                    [&path = path](const auto& plugin) { return plugin.file == path; });
    if (!listed) plugins.push_back(engine.plugins().inspect(path));
  }
  return plugins;
}

}  // namespace

int plugins_main(CliContext& context, const std::vector<std::string>& args) {
  boost::program_options::options_description options("Options");
  add_format_option(options);
  auto parsed = parse_verb("plugins", "[OPTIONS]", verb_summary("plugins"), options, args);
  if (!parsed) return 0;
  expect_no_arguments("plugins", *parsed);
  const OutputFormat format = output_format("plugins", *parsed);

  const auto plugins = all_plugins(context.engine());
  if (format == OutputFormat::json) {
    auto out = nlohmann::json::array();
    for (const auto& plugin : plugins) {
      out.push_back({{"name", plugin.name},
                     {"kind", plugin.kind},
                     {"version", plugin.version},
                     {"description", plugin.description},
                     {"abi", abi_text(plugin)},
                     {"compatible", plugin.compatible},
                     {"status", status_text(plugin)},
                     {"path", plugin.file.string()}});
    }
    std::cout << out.dump(2) << '\n';
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"NAME", "KIND", "VERSION", "ABI", "STATUS", "PATH"}};
  for (const auto& plugin : plugins) {
    rows.push_back({plugin.name, plugin.kind, plugin.version, abi_text(plugin), status_text(plugin),
                    plugin.file.string()});
  }
  print_table(std::cout, rows);
  return 0;
}

}  // namespace mcore::cli
