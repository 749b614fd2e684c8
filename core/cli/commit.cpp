// mcore commit: a container's changes as a new image, as `docker commit` does.
#include <iostream>

#include "cli/container_args.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/containers.hpp"
#include "mcore/image_reference.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

// REPOSITORY[:TAG] as the image store names it. Like Docker's client, a bad name is refused (exit 1)
// before the container is looked at.
std::string commit_name(const std::string& text) {
  try {
    const ImageReference reference = parse_image_reference(text);
    if (!reference.digest.empty()) {
      throw Error("refusing to create a tag with a digest reference: " + text, 0,
                  "name the image REPOSITORY[:TAG]");
    }
    return to_string(reference);
  } catch (const Error& error) {
    throw VerbError(error, kExitRefused);
  }
}

}  // namespace

int commit_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("author,a", po::value<std::string>(), "author (e.g. \"Jane Doe <jane@example.com>\")")
    ("message,m", po::value<std::string>(), "commit message")
    ("pause,p", po::value<bool>()->default_value(true)->implicit_value(true),
     "pause a running container while its changes are read (--pause=false to not)");
  // clang-format on
  auto parsed =
      parse_verb("commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", verb_summary("commit"), options, args);
  if (!parsed) return 0;
  const auto& positionals = parsed->positionals;
  if (positionals.empty() || positionals.size() > 2) {
    throw VerbError(
        Error("mcore commit takes a container and an optional image name", 0, "see 'mcore commit --help'"),
        kExitRefused);
  }

  engine::CommitOptions commit;
  if (positionals.size() == 2) commit.name = commit_name(positionals[1]);
  if (parsed->options.count("author")) commit.author = parsed->options["author"].as<std::string>();
  if (parsed->options.count("message")) commit.message = parsed->options["message"].as<std::string>();
  commit.pause = parsed->options["pause"].as<bool>();

  const std::string id = container_id_of(context, positionals[0]);
  try {
    std::cout << engine::commit_container(context.engine(), id, commit).id << '\n';
  } catch (const engine::ContainerRefusal& refusal) {
    throw VerbError(refusal, kExitRefused);
  } catch (Error& error) {
    error.add_context("commit container " + positionals[0]);
    throw;
  }
  return 0;
}

}  // namespace mcore::cli
