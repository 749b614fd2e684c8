// mcore image SUBCOMMAND: prune (and ls, an alias of mcore images).
#include <iostream>

#include "cli/image_format.hpp"
#include "cli/sub_verbs.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/images.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

int prune_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("all,a", po::bool_switch(), "remove all images no container uses, not just dangling ones")
    ("force,f", po::bool_switch(), "do not prompt for confirmation");
  // clang-format on
  auto parsed = parse_verb("image prune", "[OPTIONS]", "Remove unused images", options, args);
  if (!parsed) return 0;
  expect_no_arguments("image prune", *parsed);
  const bool all = parsed->options["all"].as<bool>();
  if (!confirmed(parsed->options["force"].as<bool>(),
                 all ? "This will remove all images without at least one container associated to them."
                     : "This will remove all dangling images.")) {
    return 0;
  }

  engine::Engine& engine = context.engine();
  engine::ImageStore store(engine.config().data_root);
  const auto in_use = engine::images_in_use(engine.config());
  std::vector<engine::ImageRecord> doomed;
  for (const auto& image : store.list()) {
    if (!in_use.users_of(image.id).empty()) continue;
    if (all || image.names.empty()) doomed.push_back(image);
  }

  std::vector<std::string> ids;
  std::vector<std::string> lines;
  for (const auto& image : doomed) {
    for (const auto& name : image.names) lines.push_back("untagged: " + familiar(name));
    ids.push_back(image.id);
    lines.push_back("deleted: " + image.id);
  }
  // Runs even when no image goes: blobs a failed pull or an earlier removal left behind are freed too.
  const auto report = engine::remove_images_and_collect(store, *engine.storage(), engine.config().data_root, ids);
  for (const auto& layer : report.deleted_layers) lines.push_back("deleted: " + layer);
  for (const auto& line : report.unfinished) lines.push_back("cleaned up: " + line);
  if (!report.kept_all_layers.empty()) std::cerr << "mcore: " << report.kept_all_layers << '\n';

  if (!lines.empty()) {
    std::cout << "Deleted Images:\n";
    for (const auto& line : lines) std::cout << line << '\n';
    std::cout << '\n';
  }
  std::cout << "Total reclaimed space: " << human_size(static_cast<double>(report.reclaimed_bytes)) << '\n';
  return 0;
}

}  // namespace

int image_main(CliContext& context, const std::vector<std::string>& args) {
  static const std::vector<SubVerb> sub_verbs = {
      {{"ls", "list"}, "List images (same as mcore images)", images_main},
      {{"prune"}, "Remove unused images", prune_main},
  };
  return run_sub_verb("image", sub_verbs, context, args);
}

}  // namespace mcore::cli
