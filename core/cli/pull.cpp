// mcore pull: an image from its registry into the store, with per-layer progress.
#include <unistd.h>

#include <iostream>
#include <map>
#include <mutex>

#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/image_puller.hpp"
#include "mcore/error.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

const char* state_text(engine::LayerState state) {
  switch (state) {
    case engine::LayerState::waiting: return "Waiting";
    case engine::LayerState::downloading: return "Downloading";
    case engine::LayerState::extracting: return "Extracting";
    case engine::LayerState::done: return "Pull complete";
    case engine::LayerState::already_exists: return "Already exists";
  }
  return "";
}

// Plain lines, one per state change of a layer (Docker's non-terminal output). Byte counts only
// matter on a terminal, so downloading is reported once per layer.
class LineProgress final : public engine::PullObserver {
 public:
  void layer(const std::string& digest, engine::LayerState state, std::uint64_t, std::uint64_t) override {
    std::lock_guard lock(mutex_);
    auto& last = last_[digest];
    if (last == state_text(state)) return;
    last = state_text(state);
    std::cout << digest.substr(7, 12) << ": " << last << std::endl;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> last_;
};

Platform parse_platform(const std::string& text) {
  Platform platform;
  auto first = text.find('/');
  if (first == std::string::npos || first == 0 || first + 1 == text.size()) {
    throw Error("invalid --platform \"" + text + "\"", 0, "use os/arch[/variant], e.g. linux/arm64/v8");
  }
  platform.os = text.substr(0, first);
  auto second = text.find('/', first + 1);
  platform.architecture = text.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
  if (second != std::string::npos) platform.variant = text.substr(second + 1);
  return platform;
}

}  // namespace

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

  engine::PullOptions pull;
  pull.platform = parsed->options.count("platform") ? parse_platform(parsed->options["platform"].as<std::string>())
                                                    : engine::host_platform();
  LineProgress progress;
  const bool quiet = parsed->options["quiet"].as<bool>();
  if (!quiet) {
    pull.observer = &progress;
    std::cout << (reference.tag.empty() ? reference.digest : reference.tag) << ": Pulling from "
              << reference.repository << std::endl;
  }
  auto& engine = context.engine();
  engine::ImageStore store(engine.config().data_root);
  auto record = engine::pull_image(store, *engine.registry(), *engine.storage(), reference, pull);
  if (!quiet) {
    std::cout << "Digest: " << record.manifest_digest << '\n'
              << "Status: Downloaded newer image for " << familiar_name(reference) << '\n';
  }
  std::cout << to_string(reference) << '\n';
  return 0;
}

}  // namespace mcore::cli
