// mcore rename CONTAINER NEW_NAME: as `docker rename`.
#include "cli/container_args.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

int rename_main(CliContext& context, const std::vector<std::string>& args) {
  auto parsed = parse_verb("rename", "CONTAINER NEW_NAME", verb_summary("rename"),
                           po::options_description("Options"), args);
  if (!parsed) return 0;
  if (parsed->positionals.size() != 2) {
    throw Error("mcore rename needs exactly 2 arguments: CONTAINER NEW_NAME", 0, "see 'mcore rename --help'");
  }
  // Docker accepts the name with the leading slash its inspect shows.
  std::string new_name = parsed->positionals[1];
  if (new_name.starts_with('/')) new_name.erase(0, 1);
  try {
    engine::validate_container_name(new_name);
  } catch (const Error& error) {
    throw VerbError(error, kExitRefused);
  }
  const std::string id = container_id_of(context, parsed->positionals[0]);
  engine::ContainerStore store(context.engine().config().data_root);
  try {
    engine::rename_container(store, id, new_name);
  } catch (const engine::ContainerRefusal& refusal) {
    throw VerbError(refusal, kExitRefused);
  }
  return 0;
}

}  // namespace mcore::cli
