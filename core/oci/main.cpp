// mcore-oci [GLOBAL OPTIONS] VERB [OPTIONS] ARGS: the OCI runtime command line (runc's), for
// containerd's shim, Podman's conmon and people. Errors become one line on stderr, a line in --log,
// and exit code 1, as runc's do.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string_view>

#include "engine/api/oci.hpp"
#include "oci/oci_log.hpp"
#include "oci/oci_verbs.hpp"
#include "mcore/error.hpp"

#ifndef MCORE_COMMIT
#define MCORE_COMMIT "unknown"
#endif

namespace {

namespace po = boost::program_options;
using mcore::oci::all_oci_verbs;

po::options_description global_options() {
  po::options_description options("Global options");
  // clang-format off
  options.add_options()
    ("root", po::value<std::string>()->default_value("/run/mcore-oci")->value_name("DIR"), "the containers' state")
    ("log", po::value<std::string>()->value_name("FILE"), "write errors (and debug lines) here")
    ("log-format", po::value<std::string>()->default_value("text")->value_name("text|json"), "the log's format")
    ("debug", po::bool_switch(), "log debug lines too")
    ("systemd-cgroup", po::bool_switch(), "linux.cgroupsPath is slice:prefix:name (placed as runc does without systemd)")
    ("config", po::value<std::string>()->value_name("FILE"), "mcore config for the drivers (default: $MCORE_CONFIG, else /etc/mcore/config.json)")
    ("plugin-dir", po::value<std::vector<std::string>>()->value_name("DIR"), "search DIR for driver plugins first")
    ("criu", po::value<std::string>()->value_name("PATH"), "ignored: mcore-oci does not checkpoint")
    ("rootless", po::value<std::string>()->value_name("auto|true|false"), "only false or auto: rootless mode comes later")
    ("help,h", po::bool_switch(), "print this help")
    ("version,v", po::bool_switch(), "print the version");
  // clang-format on
  return options;
}

void print_help(const po::options_description& options) {
  std::cout << "Usage: mcore-oci [OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
               "mcore's OCI runtime: runc's command line on an OCI bundle\n\nCommands:\n";
  for (const auto& verb : all_oci_verbs()) std::printf("  %-10s %s\n", verb.name.c_str(), verb.summary.c_str());
  std::cout << '\n' << options << "\nRun 'mcore-oci COMMAND --help' for more information on a command.\n";
}

std::string with_hint(const mcore::Error& error) {
  return error.hint().empty() ? error.what() : std::string(error.what()) + "; " + error.hint();
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto options = global_options();
  mcore::oci::OciLog log;
  try {
    // The global options end at the verb.
    const std::size_t verb_at = mcore::oci::first_positional(options, args);
    const std::vector<std::string> global_args(args.begin(), args.begin() + static_cast<long>(verb_at));
    const auto globals = mcore::oci::parse_oci_options("mcore-oci", options, {}, global_args);
    const std::string log_format = globals["log-format"].as<std::string>();
    if (log_format != "text" && log_format != "json") {
      throw mcore::Error("--log-format: unknown format \"" + log_format + "\"", 0, "use text or json");
    }
    log = mcore::oci::OciLog(globals.count("log") ? std::optional<std::filesystem::path>(globals["log"].as<std::string>())
                                                  : std::nullopt,
                             log_format == "json" ? mcore::oci::LogFormat::json : mcore::oci::LogFormat::text,
                             globals["debug"].as<bool>());
    if (globals["version"].as<bool>()) {
      std::cout << "mcore-oci version " << MCORE_VERSION << "\ncommit: " << MCORE_COMMIT << "\nspec: "
                << mcore::engine::kOciVersion << std::endl;
      return 0;
    }
    if (globals["help"].as<bool>() || verb_at == args.size()) {
      print_help(options);
      return verb_at == args.size() && !globals["help"].as<bool>() ? 1 : 0;
    }
    if (globals.count("rootless") && globals["rootless"].as<std::string>() == "true") {
      throw mcore::Error("--rootless=true: rootless mode is not supported by mcore-oci yet", 0, "run it as root");
    }

    const std::string& name = args[verb_at];
    const auto verb = std::find_if(all_oci_verbs().begin(), all_oci_verbs().end(),
                                   [&](const auto& candidate) { return candidate.name == name; });
    if (verb == all_oci_verbs().end()) {
      throw mcore::Error("unknown command \"" + name + "\"", 0, "see 'mcore-oci --help'");
    }
    po::options_description verb_options("Options");
    if (verb->add_options) verb->add_options(verb_options);
    verb_options.add_options()("help,h", po::bool_switch(), "print this help");
    po::options_description all_options;
    all_options.add(verb_options);
    for (const auto& positional : verb->positionals) all_options.add_options()(positional.c_str(), po::value<std::string>());
    std::vector<std::string> verb_args(args.begin() + static_cast<long>(verb_at) + 1, args.end());
    std::vector<std::string> rest;
    if (verb->rest_verbatim) {
      // Options, the id, then the command as given: its own options are not ours.
      const std::size_t id_at = mcore::oci::first_positional(verb_options, verb_args);
      if (id_at < verb_args.size()) {
        rest.assign(verb_args.begin() + static_cast<long>(id_at) + 1, verb_args.end());
        verb_args.resize(id_at + 1);
      }
    }
    const auto values = mcore::oci::parse_oci_options("mcore-oci " + name, all_options, verb->positionals, verb_args);
    if (values["help"].as<bool>()) {
      std::cout << "Usage: mcore-oci " << name << ' ' << verb->usage << "\n\n" << verb->summary << "\n\n" << verb_options;
      return 0;
    }

    mcore::engine::OciRuntimeOptions runtime_options;
    runtime_options.root = globals["root"].as<std::string>();
    runtime_options.systemd_cgroup = globals["systemd-cgroup"].as<bool>();
    if (globals.count("config")) runtime_options.engine.config_path = globals["config"].as<std::string>();
    if (globals.count("plugin-dir")) {
      for (const auto& dir : globals["plugin-dir"].as<std::vector<std::string>>()) runtime_options.engine.plugin_dirs.push_back(dir);
    }
    runtime_options.warn = [&log](const std::string& message) { log.warning(message); };
    log.debug("mcore-oci " + name);
    mcore::engine::OciRuntime runtime(std::move(runtime_options));
    const int code = verb->run(runtime, values, rest);
    std::fflush(stdout);
    return code;
  } catch (const mcore::Error& error) {
    log.error(with_hint(error));
  } catch (const std::exception& error) {
    log.error(error.what());
  }
  return 1;
}
