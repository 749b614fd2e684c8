// mcore inspect IMAGE...: Docker-shaped JSON for local images (containers come with a later issue).
#include <iostream>

#include "cli/image_format.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/image_gc.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

nlohmann::json inspect_image(const engine::ImageStore& store, const engine::ImageRecord& image) {
  const auto config = nlohmann::json::parse(store.read_blob(image.id));
  const auto field = [&](const char* key, nlohmann::json fallback) {
    return config.contains(key) ? config[key] : fallback;
  };
  auto repo_tags = nlohmann::json::array();
  for (const auto& name : image.names) repo_tags.push_back(familiar(name));
  auto repo_digests = nlohmann::json::array();
  for (const auto& digest : image.repo_digests) repo_digests.push_back(familiar(digest));

  nlohmann::json out = {{"Id", image.id},
                        {"RepoTags", repo_tags},
                        {"RepoDigests", repo_digests},
                        {"Parent", ""},
                        {"Comment", field("comment", "")},
                        {"Created", image.created.empty() ? field("created", "") : nlohmann::json(image.created)},
                        {"Author", field("author", "")},
                        {"Config", field("config", nlohmann::json::object())},
                        {"Architecture", field("architecture", "")},
                        {"Os", field("os", "")},
                        {"Size", image.size},
                        {"RootFS", {{"Type", "layers"}, {"Layers", image.layers}}},
                        {"Metadata", {{"LastTagTime", "0001-01-01T00:00:00Z"}}}};
  if (config.contains("variant")) out["Variant"] = config["variant"];
  return out;
}

}  // namespace

int inspect_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  auto parsed = parse_verb("inspect", "IMAGE [IMAGE...]", verb_summary("inspect"), options, args);
  if (!parsed) return 0;
  if (parsed->positionals.empty()) throw Error("mcore inspect needs at least one image", 0, "see 'mcore inspect --help'");

  engine::ImageStore store(context.engine().config().data_root);
  auto out = nlohmann::json::array();
  std::vector<Error> missing;
  for (const auto& text : parsed->positionals) {
    const auto image = engine::resolve_image(store, text);
    if (!image) {
      missing.emplace_back("No such object: " + text, 0, "'mcore images' lists the local images");
      continue;
    }
    out.push_back(inspect_image(store, *image));
  }
  // Like Docker: what was found is printed (an empty array when nothing), then one line per unknown name.
  std::cout << out.dump(4) << '\n';
  for (const auto& error : missing) report_error(error);
  return missing.empty() ? 0 : kExitMcoreFailure;
}

}  // namespace mcore::cli
