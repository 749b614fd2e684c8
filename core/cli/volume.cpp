// mcore volume SUBCOMMAND: create, ls, inspect, rm, prune — named volumes (engine/volume/volume_store.hpp).
#include <iostream>

#include "cli/output.hpp"
#include "cli/sub_verbs.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/volumes.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

engine::VolumeStore store_of(CliContext& context) { return engine::VolumeStore(context.engine().config().data_root); }

int volume_create(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("driver,d", po::value<std::string>()->default_value("local"), "volume driver (local)");
  auto parsed = parse_verb("volume create", "[OPTIONS] [VOLUME]", "Create a volume", options, args);
  if (!parsed) return 0;
  if (parsed->positionals.size() > 1) throw Error("mcore volume create takes at most one name");
  if (parsed->options["driver"].as<std::string>() != "local") {
    throw Error("volume driver " + parsed->options["driver"].as<std::string>() + " is not available", 0,
                "mcore has the local driver only");
  }
  auto store = store_of(context);
  engine::FileLock held = store.lock(engine::FileLock::Mode::shared);
  const auto volume = store.create(parsed->positionals.empty() ? "" : parsed->positionals.front());
  std::cout << volume.name << '\n';
  return 0;
}

nlohmann::json inspect_json(const engine::VolumeRecord& volume) {
  return {{"CreatedAt", volume.created}, {"Driver", "local"}, {"Labels", nlohmann::json::object()},
          {"Mountpoint", volume.mountpoint.string()}, {"Name", volume.name},
          {"Options", nlohmann::json::object()}, {"Scope", "local"}};
}

int volume_ls(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("quiet,q", po::bool_switch(), "only display volume names");
  add_format_option(options);
  auto parsed = parse_verb("volume ls", "[OPTIONS]", "List volumes", options, args);
  if (!parsed) return 0;
  expect_no_arguments("volume ls", *parsed);
  const OutputFormat format = output_format("volume ls", *parsed);
  const auto volumes = store_of(context).list();
  if (parsed->options["quiet"].as<bool>()) {
    for (const auto& volume : volumes) std::cout << volume.name << '\n';
  } else if (format == OutputFormat::json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& volume : volumes) out.push_back(inspect_json(volume));
    std::cout << out.dump() << '\n';
  } else {
    std::vector<std::vector<std::string>> rows{{"DRIVER", "VOLUME NAME"}};
    for (const auto& volume : volumes) rows.push_back({"local", volume.name});
    print_table(std::cout, rows);
  }
  return 0;
}

int volume_inspect(CliContext& context, const std::vector<std::string>& args) {
  auto parsed = parse_verb("volume inspect", "VOLUME [VOLUME...]", "Display detailed information on volumes",
                           po::options_description("Options"), args);
  if (!parsed) return 0;
  if (parsed->positionals.empty()) throw Error("mcore volume inspect needs a volume name", 0, "see `mcore volume ls`");
  auto store = store_of(context);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : parsed->positionals) {
    auto volume = store.find(name);
    if (!volume) throw VerbError(Error("no such volume: " + name, 0, "see `mcore volume ls`"), kExitRefused);
    out.push_back(inspect_json(*volume));
  }
  std::cout << out.dump(4) << '\n';
  return 0;
}

int volume_rm(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("force,f", po::bool_switch(), "accepted for Docker's scripts; a volume in use is still refused");
  auto parsed = parse_verb("volume rm", "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes", options, args);
  if (!parsed) return 0;
  if (parsed->positionals.empty()) throw Error("mcore volume rm needs a volume name", 0, "see `mcore volume ls`");
  int status = 0;
  for (const auto& name : parsed->positionals) {
    try {
      engine::remove_volume(context.engine(), name);
      std::cout << name << '\n';
    } catch (const Error& error) {
      // Docker goes on with the others and exits 1, as the daemon refused.
      report_error(error);
      status = kExitRefused;
    }
  }
  return status;
}

int volume_prune(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("all,a", po::bool_switch(), "remove every unused volume, not only anonymous ones")(
      "force,f", po::bool_switch(), "do not prompt for confirmation");
  auto parsed = parse_verb("volume prune", "[OPTIONS]", "Remove unused volumes", options, args);
  if (!parsed) return 0;
  expect_no_arguments("volume prune", *parsed);
  const bool all = parsed->options["all"].as<bool>();
  if (!confirmed(parsed->options["force"].as<bool>(),
                 all ? "This will remove all volumes not used by at least one container."
                     : "This will remove anonymous volumes not used by at least one container.")) {
    return 0;
  }
  const auto removed = engine::prune_volumes(context.engine(), all);
  if (!removed.empty()) {
    std::cout << "Deleted Volumes:\n";
    for (const auto& name : removed) std::cout << name << '\n';
  }
  return 0;
}

}  // namespace

int volume_main(CliContext& context, const std::vector<std::string>& args) {
  static const std::vector<SubVerb> sub_verbs = {
      {{"create"}, "Create a volume", volume_create},
      {{"inspect"}, "Display detailed information on volumes", volume_inspect},
      {{"ls", "list"}, "List volumes", volume_ls},
      {{"prune"}, "Remove unused volumes", volume_prune},
      {{"rm", "remove"}, "Remove one or more volumes", volume_rm},
  };
  return run_sub_verb("volume", sub_verbs, context, args);
}

}  // namespace mcore::cli
