// mcore-exit-handler: the engine's entry point for a container's exit, exec'd by its supervisor (never
// by hand) when the command exited and no foreground `mcore run` took the exit over:
//
//   mcore-exit-handler [--config F] [--plugin-dir D]... [--log-level L]
//                      --lock-fd N --exit-code N --finished-at T [--log-failures N] [--stop-requested] ID
//
// It builds an Engine from the same global options as the mcore that started the container and calls
// handle_container_exit (engine/container/container_exit.hpp), which may restart the container in this process.
// Its stdio is /dev/null (the launcher's): failures go to the engine's log.
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "engine/container/container_exit.hpp"
#include "mcore/error.hpp"

namespace {

constexpr int kUsage = 2;

int usage() {
  std::fprintf(stderr, "mcore-exit-handler: started by a container's supervisor only\n");
  return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
  static const option kOptions[] = {
      {"config", required_argument, nullptr, 'c'},      {"plugin-dir", required_argument, nullptr, 'p'},
      {"log-level", required_argument, nullptr, 'l'},   {"lock-fd", required_argument, nullptr, 'k'},
      {"exit-code", required_argument, nullptr, 'x'},   {"finished-at", required_argument, nullptr, 'f'},
      {"log-failures", required_argument, nullptr, 'F'}, {"stop-requested", no_argument, nullptr, 's'},
      {nullptr, 0, nullptr, 0},
  };
  mcore::engine::GlobalOptions global;
  mcore::engine::ExitFacts facts;
  int lock_fd = -1;
  bool have_exit_code = false;
  int option;
  while ((option = ::getopt_long(argc, argv, "", kOptions, nullptr)) != -1) {
    switch (option) {
      case 'c': global.config_path = optarg; break;
      case 'p': global.plugin_dirs.emplace_back(optarg); break;
      case 'l': global.log_level = optarg; break;
      case 'k': lock_fd = std::atoi(optarg); break;
      case 'x': facts.exit_code = std::atoi(optarg), have_exit_code = true; break;
      case 'f': facts.finished_at = optarg; break;
      case 'F': facts.log_failures = std::strtoull(optarg, nullptr, 10); break;
      case 's': facts.stop_requested = true; break;
      default: return usage();
    }
  }
  if (optind + 1 != argc || lock_fd < 0 || !have_exit_code || facts.finished_at.empty()) return usage();
  const std::string id = argv[optind];
  try {
    mcore::engine::Engine engine(global);
    try {
      mcore::engine::handle_container_exit(engine, id, lock_fd, facts);
    } catch (const std::exception& error) {
      engine.logger()->error("container {}: recording its exit failed: {}", id.substr(0, 12), error.what());
      return 125;
    }
  } catch (const std::exception& error) {
    // No engine, no log: the next command on the container, or `mcore boot`, records the exit.
    std::fprintf(stderr, "mcore-exit-handler: %s\n", error.what());
    return 125;
  }
  return 0;
}
