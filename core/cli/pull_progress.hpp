#pragma once
// Pull progress as Docker shows it, for `mcore pull` (on stdout) and `mcore run` (on stderr, so the
// container's output stays clean). A terminal gets per-layer bars redrawn in place
// (terminal_progress.hpp); anything else gets one plain line per state change of a layer.
#include <memory>
#include <ostream>

#include "engine/api/images.hpp"

namespace mcore::cli {

class TerminalProgress;

// "linux/arm64/v8" -> Platform; throws Error naming the bad value.
Platform parse_platform(const std::string& text);

class PullProgress final : public engine::PullSink {
 public:
  // Reports on `out` (nothing when null). `out_fd` is the descriptor behind that stream
  // (STDOUT_FILENO for std::cout): whether it is a terminal, and how wide, picks the style.
  PullProgress(std::ostream* out, int out_fd);
  ~PullProgress() override;

  engine::PullObserver* pulling(const ImageReference& reference, bool missing_locally) override;
  void pulled(const ImageReference& reference, const engine::ImageRecord& record) override;
  void pull_failed() override;

 private:
  std::ostream* out_;
  int out_fd_;
  std::unique_ptr<engine::PullObserver> observer_;
  TerminalProgress* bars_ = nullptr;  // observer_, when it draws bars
};

}  // namespace mcore::cli
