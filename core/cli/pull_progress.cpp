#include "cli/pull_progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
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

PullProgress::PullProgress(std::ostream* out, int out_fd) : out_(out), out_fd_(out_fd) {}

PullProgress::~PullProgress() = default;

engine::PullObserver* PullProgress::pulling(const ImageReference& reference, bool missing_locally) {
  if (out_ == nullptr) return nullptr;
  if (missing_locally) *out_ << "Unable to find image '" << familiar_name(reference) << "' locally" << std::endl;
  *out_ << (reference.tag.empty() ? reference.digest : reference.tag) << ": Pulling from " << reference.repository
        << std::endl;
  if (const auto columns = terminal_columns(out_fd_); columns > 0) {
    auto bars = std::make_unique<TerminalProgress>(*out_, columns);
    bars_ = bars.get();
    observer_ = std::move(bars);
  } else {
    observer_ = std::make_unique<LineProgress>(*out_);
  }
  return observer_.get();
}

void PullProgress::pulled(const ImageReference& reference, const engine::ImageRecord& record) {
  if (out_ == nullptr) return;
  if (bars_ != nullptr) bars_->finish();
  *out_ << "Digest: " << record.manifest_digest << '\n'
        << "Status: Downloaded newer image for " << familiar_name(reference) << std::endl;
}

// The bars as they stood when the pull failed, so the error line follows a true picture.
void PullProgress::pull_failed() {
  if (bars_ != nullptr) bars_->finish();
}

}  // namespace mcore::cli
