// mcore boot: Docker's daemon start, for a runtime without a daemon (engine/container/container_boot.hpp). The
// systemd unit mcore.service runs it at boot; it may be run by hand at any time.
#include <iostream>

#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {

int boot_main(CliContext& context, const std::vector<std::string>& args) {
  auto parsed = parse_verb("boot", "", verb_summary("boot"), boost::program_options::options_description("Options"), args);
  if (!parsed) return 0;
  expect_no_arguments("boot", *parsed);
  const engine::BootReport report = engine::boot_containers(context.engine());
  for (const auto& name : report.recorded) std::cout << "Exited: " << name << " (lost while running; no restart)\n";
  for (const auto& line : report.swept) std::cout << "Cleaned up: " << line << '\n';
  for (const auto& name : report.started) std::cout << "Started: " << name << '\n';
  std::cout << std::flush;
  for (const auto& line : report.failed) std::cerr << "mcore: boot: " << line << '\n';
  return report.failed.empty() ? 0 : 1;
}

}  // namespace mcore::cli
