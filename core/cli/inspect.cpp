// mcore inspect [--type container|image] NAME|ID...: Docker-shaped JSON for containers and local images.
// Without --type a container is looked for first, then an image, as Docker does.
#include <iostream>

#include "cli/image_format.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/containers.hpp"
#include "engine/api/images.hpp"

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

  nlohmann::json out = {
      {"Id", image.id},
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

enum class ObjectType { any, container, image };

ObjectType object_type(const ParsedVerb& parsed) {
  if (!parsed.options.count("type")) return ObjectType::any;
  const auto& type = parsed.options["type"].as<std::string>();
  if (type == "container") return ObjectType::container;
  if (type == "image") return ObjectType::image;
  throw Error("\"" + type + "\" is not a valid value for --type", 0, "use --type container or --type image");
}

// What one name resolved to: a document, or the refusal to report.
struct Inspected {
  std::optional<nlohmann::ordered_json> document;
  std::optional<Error> refusal;
};

class Inspector {
 public:
  Inspector(const engine::Config& config, ObjectType type)
      : config_(config), type_(type), containers_(config.data_root), images_(config.data_root) {}

  Inspected inspect(const std::string& name) const {
    std::optional<Error> container_refusal;
    if (type_ != ObjectType::image) {
      try {
        const std::string id = engine::resolve_container_id(containers_, name);
        if (auto record = containers_.load(id)) {
          engine::ContainerRecord observed = engine::observe_container(config_, std::move(*record));
          // The running supervisor's count of lost log entries adds to what earlier runs lost.
          if (auto supervisor = engine::SupervisorClient::connect(engine::runtime_paths(config_, id))) {
            observed.log_write_failures += supervisor->log_failures().value_or(0);
          }
          return {engine::inspect_container(observed, containers_.log_path(id)), std::nullopt};
        }
      } catch (const Error& error) {
        // resolve_container_id words an unknown name "no such container: X"; anything else (an
        // ambiguous id prefix) is worth more to the user than Docker's generic "No such object".
        if (type_ == ObjectType::container ||
            std::string_view(error.what()).rfind("no such container", 0) != 0) {
          container_refusal = error;
        }
      }
    }
    if (type_ != ObjectType::container && !container_refusal) {
      try {
        if (auto image = engine::resolve_image(images_, name))
          return {nlohmann::ordered_json(inspect_image(images_, *image)), std::nullopt};
      } catch (const Error& error) {
        return {std::nullopt, error};
      }
    }
    if (container_refusal) return {std::nullopt, container_refusal};
    return {std::nullopt, Error("No such object: " + name, 0, hint())};
  }

 private:
  std::string hint() const {
    switch (type_) {
      case ObjectType::container: return "'mcore ps -a' lists the containers";
      case ObjectType::image: return "'mcore images' lists the local images";
      case ObjectType::any: break;
    }
    return "'mcore ps -a' lists the containers, 'mcore images' the local images";
  }

  const engine::Config& config_;
  ObjectType type_;
  engine::ContainerStore containers_;
  engine::ImageStore images_;
};

}  // namespace

int inspect_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("type", po::value<std::string>()->value_name("TYPE"),
                        "only look for a container or an image");
  auto parsed =
      parse_verb("inspect", "[OPTIONS] NAME|ID [NAME|ID...]", verb_summary("inspect"), options, args);
  if (!parsed) return 0;
  const ObjectType type = object_type(*parsed);
  if (parsed->positionals.empty()) {
    throw Error("mcore inspect needs at least one container or image", 0, "see 'mcore inspect --help'");
  }

  const Inspector inspector(context.engine().config(), type);
  auto out = nlohmann::ordered_json::array();
  std::vector<Error> refusals;
  for (const auto& name : parsed->positionals) {
    auto inspected = inspector.inspect(name);
    if (inspected.document) out.push_back(std::move(*inspected.document));
    if (inspected.refusal) refusals.push_back(std::move(*inspected.refusal));
  }
  // Like Docker: what was found is printed (an empty array when nothing), then one line per refusal.
  std::cout << out.dump(4) << '\n';
  for (const auto& error : refusals) report_error(error);
  return refusals.empty() ? 0 : kExitRefused;
}

}  // namespace mcore::cli
