// mcore [GLOBAL OPTIONS] VERB [ARGS...]: global options, then the verb, which parses the rest itself.
// The one place where an mcore::Error becomes a line on stderr and exit code 125.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>

#include "cli/output.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "cli/word_suggestions.hpp"
#include "engine/api/containers.hpp"
#include "mcore/error.hpp"

namespace {

namespace po = boost::program_options;
using mcore::cli::all_verbs;

po::options_description global_options() {
  po::options_description options("Global options");
  // clang-format off
  options.add_options()
    ("config", po::value<std::string>()->value_name("FILE"),
     "config file (default: $MCORE_CONFIG, else /etc/mcore/config.json)")
    ("plugin-dir", po::value<std::vector<std::string>>()->value_name("DIR"),
     "search DIR for driver plugins first; repeatable")
    ("log-level", po::value<std::string>()->value_name("LEVEL"),
     "trace, debug, info, warn, error, critical or off")
    ("help,h", po::bool_switch(), "print this help")
    ("version,v", po::bool_switch(), "print the version");
  // clang-format on
  return options;
}

void print_help(const po::options_description& options) {
  std::cout
      << "Usage: mcore [OPTIONS] COMMAND [ARG...]\n\n"
         "A container runtime with storage, network, resource and registry drivers loaded from plugins\n\n"
         "Commands:\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& verb : all_verbs()) {
    rows.push_back({verb.name, verb.summary});
  }
  mcore::cli::print_table(std::cout, rows, "  ");
  std::cout << '\n' << options << "\nRun 'mcore COMMAND --help' for more information on a command.\n";
}

int run_cli(const std::vector<std::string>& args) {
  const auto options = global_options();
  const auto parsed = mcore::cli::parse_options("mcore", options, args);
  const auto& values = parsed.options;
  const bool want_version = values["version"].as<bool>();
  // Like docker: no command at all is a request for help.
  if (values["help"].as<bool>() || (parsed.positionals.empty() && !want_version)) {
    print_help(options);
    return 0;
  }

  mcore::engine::GlobalOptions global;
  if (values.count("config")) global.config_path = values["config"].as<std::string>();
  if (values.count("plugin-dir")) {
    for (const auto& dir : values["plugin-dir"].as<std::vector<std::string>>())
      global.plugin_dirs.emplace_back(dir);
  }
  if (values.count("log-level")) global.log_level = values["log-level"].as<std::string>();
  mcore::cli::CliContext context(std::move(global));

  if (want_version) return mcore::cli::version_main(context, {});
  const std::string& name = parsed.positionals.front();
  for (const auto& verb : all_verbs()) {
    if (name == verb.name)
      return verb.main(context, {parsed.positionals.begin() + 1, parsed.positionals.end()});
  }
  std::vector<std::string> names;
  for (const auto& verb : all_verbs()) names.push_back(verb.name);
  if (auto meant = mcore::cli::closest_word(name, names)) {
    throw mcore::Error("'" + name + "' is not a mcore command", 0, "did you mean 'mcore " + *meant + "'?");
  }
  throw mcore::Error("'" + name + "' is not a mcore command", 0, "see 'mcore --help'");
}

}  // namespace

namespace {

int run_main(int argc, char** argv) {
  try {
    return run_cli({argv + 1, argv + argc});
  } catch (const mcore::cli::VerbError& error) {
    mcore::cli::report_error(error);
    return error.exit_code();
  } catch (const mcore::engine::ContainerRefusal& error) {
    mcore::cli::report_error(error);
    return mcore::cli::kExitRefused;
  } catch (const mcore::Error& error) {
    mcore::cli::report_error(error);
  } catch (const std::exception& error) {
    mcore::cli::report_error(mcore::Error(error.what()));
  }
  return mcore::cli::kExitMcoreFailure;
}

}  // namespace

// Everything a verb made is released when it returns; what is left (the loaded drivers, the libraries'
// static objects) needs no tearing down, which would only delay a `run --rm`'s exit.
int main(int argc, char** argv) {
  const int code = run_main(argc, argv);
  std::cout.flush();
  std::fflush(nullptr);
  std::_Exit(code);
}
