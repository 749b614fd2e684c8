#include "cli/pull_progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>

#include "cli/terminal_progress.hpp"
#include "mcore/error.hpp"

namespace mcore::cli {
namespace {

// Plain lines, one per state change of a layer (Docker's non-terminal output). Byte counts only
// matter on a terminal, so downloading is reported once per layer.
class LineProgress final : public engine::PullObserver {
 public:
  explicit LineProgress(std::ostream& out) : out_(out) {}
  void layer(const std::string& digest, engine::LayerState state, std::uint64_t, std::uint64_t) override {
    std::lock_guard lock(mutex_);
    const auto [last, added] = last_.try_emplace(digest, state);
    if (!added && last->second == state) return;
    last->second = state;
    out_ << short_layer_id(digest) << ": " << layer_state_text(state) << std::endl;
  }

 private:
  std::ostream& out_;
  std::mutex mutex_;
  std::map<std::string, engine::LayerState> last_;
};

// The width of the terminal on `fd`, or 0 when `fd` is not one that can draw bars (a pipe, a file,
// TERM=dumb).
std::size_t terminal_columns(int fd) {
  if (::isatty(fd) != 1) return 0;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string_view(term) == "dumb") return 0;
  winsize size{};
  // A terminal that does not know its size (a fresh pty) is treated as the classic 80 columns.
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return 80;
  return size.ws_col;
}

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
                                       const Platform& platform, std::ostream* progress, int progress_fd) {
  engine::PullOptions options;
  options.platform = platform;
  options.parallel_layers = engine.config().max_concurrent_downloads;
  std::optional<LineProgress> lines;
  std::optional<TerminalProgress> bars;
  if (progress != nullptr) {
    if (const auto columns = terminal_columns(progress_fd); columns > 0) {
      options.observer = &bars.emplace(*progress, columns);
    } else {
      options.observer = &lines.emplace(*progress);
    }
    *progress << (reference.tag.empty() ? reference.digest : reference.tag) << ": Pulling from "
              << reference.repository << std::endl;
  }
  engine::ImageStore store(engine.config().data_root);
  engine::ImageRecord record;
  try {
    record = engine::pull_image(store, *engine.registry(), *engine.storage(), reference, options);
  } catch (...) {
    // The bars as they stood when the pull failed, so the error line follows a true picture.
    if (bars) bars->finish();
    throw;
  }
  if (bars) bars->finish();
  if (progress != nullptr) {
    *progress << "Digest: " << record.manifest_digest << '\n'
              << "Status: Downloaded newer image for " << familiar_name(reference) << std::endl;
  }
  return record;
}

}  // namespace mcore::cli
