#include "cli/container_args.hpp"

#include <iostream>

#include "engine/api/containers.hpp"

namespace mcore::cli {

std::string container_id_of(CliContext& context, const std::string& reference) {
  try {
    return engine::resolve_container_id(engine::ContainerStore(context.engine().config().data_root), reference);
  } catch (const Error& error) {
    throw VerbError(error, kExitRefused);
  }
}

void require_containers(const std::string& verb, const std::vector<std::string>& references) {
  if (references.empty()) {
    throw VerbError(Error("mcore " + verb + " needs at least one container", 0, "see 'mcore " + verb + " --help'"),
                    kExitRefused);
  }
}

int for_each_container(CliContext& context, const std::vector<std::string>& references,
                       const std::function<void(const std::string& id)>& action, bool echo) {
  int exit_code = 0;
  for (const auto& reference : references) {
    try {
      action(container_id_of(context, reference));
      if (echo) std::cout << reference << std::endl;
    } catch (const VerbError& error) {
      report_error(error);
      exit_code = std::max(exit_code, error.exit_code());
    } catch (const engine::ContainerRefusal& error) {
      report_error(error);
      exit_code = std::max(exit_code, kExitRefused);
    }
  }
  return exit_code;
}

}  // namespace mcore::cli
