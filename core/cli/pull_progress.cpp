#include "cli/pull_progress.hpp"

#include "mcore/error.hpp"

#include <map>
#include <optional>
#include <mutex>

namespace mcore::cli {
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
  explicit LineProgress(std::ostream& out) : out_(out) {}
  void layer(const std::string& digest, engine::LayerState state, std::uint64_t, std::uint64_t) override {
    std::lock_guard lock(mutex_);
    auto& last = last_[digest];
    if (last == state_text(state)) return;
    last = state_text(state);
    out_ << digest.substr(7, 12) << ": " << last << std::endl;
  }

 private:
  std::ostream& out_;
  std::mutex mutex_;
  std::map<std::string, std::string> last_;
};

}  // namespace

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

engine::ImageRecord pull_with_progress(engine::Engine& engine, const ImageReference& reference,
                                       const Platform& platform, std::ostream* progress) {
  engine::PullOptions options;
  options.platform = platform;
  std::optional<LineProgress> lines;
  if (progress != nullptr) {
    lines.emplace(*progress);
    options.observer = &*lines;
    *progress << (reference.tag.empty() ? reference.digest : reference.tag) << ": Pulling from "
              << reference.repository << std::endl;
  }
  engine::ImageStore store(engine.config().data_root);
  auto record = engine::pull_image(store, *engine.registry(), *engine.storage(), reference, options);
  if (progress != nullptr) {
    *progress << "Digest: " << record.manifest_digest << '\n'
              << "Status: Downloaded newer image for " << familiar_name(reference) << std::endl;
  }
  return record;
}

}  // namespace mcore::cli
