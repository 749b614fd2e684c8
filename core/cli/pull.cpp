// mcore pull: an image from its registry into the store, with per-layer progress.
#include <unistd.h>

#include <iostream>

#include "cli/pull_progress.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/images.hpp"
#include "mcore/error.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

int pull_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("quiet,q", po::bool_switch(), "print only the image reference")
    ("platform", po::value<std::string>(), "os/arch[/variant] to select from a multi-platform image");
  // clang-format on
  auto parsed = parse_verb("pull", "[OPTIONS] NAME[:TAG|@DIGEST]", verb_summary("pull"), options, args);
  if (!parsed) return 0;
  if (parsed->positionals.size() != 1) throw Error("mcore pull takes one image name", 0, "see 'mcore pull --help'");
  ImageReference reference = parse_image_reference(parsed->positionals[0]);

  Platform platform = parsed->options.count("platform")
                          ? parse_platform(parsed->options["platform"].as<std::string>())
                          : engine::host_platform();
  const bool quiet = parsed->options["quiet"].as<bool>();
  PullProgress progress(quiet ? nullptr : &std::cout, STDOUT_FILENO);
  engine::pull_image(context.engine(), reference, platform, &progress);
  std::cout << to_string(reference) << '\n';
  return 0;
}

}  // namespace mcore::cli
