// mcore rmi: untag images and delete those left without a name, then free their blobs and layers.
#include <algorithm>
#include <iostream>

#include "cli/image_format.hpp"
#include "cli/image_names.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/images.hpp"
#include "mcore/image_reference.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

std::string users_text(const std::vector<engine::ImageUser>& users) {
  std::string text;
  for (const auto& user : users) text += (text.empty() ? "" : ", ") + user.container;
  return text;
}

void remove_one(engine::Engine& engine, engine::ImageStore& store, const std::string& text, bool force) {
  const auto image = engine::resolve_image(store, text);
  if (!image) throw Error("No such image: " + text, 0, "'mcore images' lists the local images");
  const std::vector<engine::ImageUser> users = engine::images_in_use(engine.config()).users_of(image->id);
  const bool running = std::any_of(users.begin(), users.end(), [](const auto& user) { return user.running; });
  const std::string id12 = short_id(image->id);

  const auto name = matched_name(*image, text);
  // Untagging one of several names never affects containers: the image stays.
  if (name && image->names.size() > 1) {
    store.untag(*name);
    std::cout << "Untagged: " << familiar(*name) << '\n';
    return;
  }
  if (!name && image->names.size() > 1 && !force) {
    throw Error("unable to delete " + id12 + " (must be forced): image is referenced in multiple repositories", 0,
                "remove its names one by one, or use mcore rmi -f");
  }
  if (running) {
    throw Error("unable to delete " + id12 + ": image is used by running container " + users_text(users), 0,
                "stop the container first");
  }
  if (!users.empty() && !force) {
    throw Error("unable to remove image " + text + " (must be forced): container " + users_text(users) +
                    " uses image " + id12,
                0, "remove the container first, or use mcore rmi -f");
  }

  // Forced or not, the collector keeps every layer a container record lists.
  for (const auto& each : image->names) std::cout << "Untagged: " << familiar(each) << '\n';
  for (const auto& repo_digest : image->repo_digests) std::cout << "Untagged: " << familiar(repo_digest) << '\n';
  const auto report =
      engine::remove_images_and_collect(store, *engine.storage(), engine.config().data_root, {image->id});
  std::cout << "Deleted: " << image->id << '\n';
  for (const auto& layer : report.deleted_layers) std::cout << "Deleted: " << layer << '\n';
  if (!report.kept_all_layers.empty()) std::cerr << "mcore: " << report.kept_all_layers << '\n';
}

}  // namespace

int rmi_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("force,f", po::bool_switch(), "remove images that stopped containers use");
  auto parsed = parse_verb("rmi", "[OPTIONS] IMAGE [IMAGE...]", verb_summary("rmi"), options, args);
  if (!parsed) return 0;
  if (parsed->positionals.empty()) throw Error("mcore rmi needs at least one image", 0, "see 'mcore rmi --help'");
  const bool force = parsed->options["force"].as<bool>();

  engine::Engine& engine = context.engine();
  engine::ImageStore store(engine.config().data_root);
  // Like Docker: every image is tried; a failure is reported and the exit code says something failed.
  int exit_code = 0;
  for (const auto& text : parsed->positionals) {
    try {
      remove_one(engine, store, text, force);
    } catch (const Error& error) {
      report_error(error);
      exit_code = kExitMcoreFailure;
    }
  }
  return exit_code;
}

}  // namespace mcore::cli
