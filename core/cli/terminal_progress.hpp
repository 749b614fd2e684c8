#pragma once
// Pull progress on a terminal, as Docker draws it: one line per layer, redrawn in place with ANSI
// cursor-up and erase-line. The text of a frame comes from pure functions so it can be tested without
// a terminal; TerminalProgress only decides when to draw.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "engine/api/images.hpp"

namespace mcore::cli {

// What a frame shows of one layer.
struct LayerProgress {
  std::string id;  // the first 12 hex digits of the blob digest
  engine::LayerState state = engine::LayerState::waiting;
  std::uint64_t done = 0;   // bytes downloaded
  std::uint64_t total = 0;  // the blob's size, 0 when unknown
};

// "sha256:0123456789abcdef..." -> "0123456789ab", how both progress styles name a layer.
std::string short_layer_id(const std::string& digest);

// "Waiting", "Downloading", "Extracting", "Pull complete", "Already exists".
const char* layer_state_text(engine::LayerState state);

// Docker's byte sizes: decimal units, four significant digits ("0B", "532B", "1.5kB", "12.35MB").
std::string human_size(std::uint64_t bytes);

// "[=====>     ]" with `width` + 1 cells between the brackets: one '=' per 1/width of done/total,
// then '>' and padding (Docker's bar at width 50).
std::string progress_bar(std::uint64_t done, std::uint64_t total, std::size_t width);

// One layer's line without a newline, at most `columns` - 1 characters so it never wraps (a wrapped
// line would break the cursor-up count): "<id>: Downloading [==>   ]  12.3MB/45.6MB", "<id>: Waiting",
// "<id>: Extracting", "<id>: Pull complete", "<id>: Already exists". The bar narrows, then goes, on
// narrow terminals.
std::string layer_line(const LayerProgress& layer, std::size_t columns);

// A whole frame: the cursor moved up over the `lines_drawn` lines of the previous frame, then every
// layer's line erased and rewritten, each ending in '\n'.
std::string frame_text(const std::vector<LayerProgress>& layers, std::size_t lines_drawn,
                       std::size_t columns);

// A PullObserver that redraws the frame on every state change of a layer and at most every
// `min_interval` for byte counts. Thread-safe; finish() draws the last frame if an update is pending.
class TerminalProgress final : public engine::PullObserver {
 public:
  TerminalProgress(std::ostream& out, std::size_t columns,
                   std::chrono::milliseconds min_interval = std::chrono::milliseconds(100));
  void layer(const std::string& digest, engine::LayerState state, std::uint64_t done,
             std::uint64_t total) override;
  void finish();

 private:
  void draw();  // with mutex_ held

  std::ostream& out_;
  const std::size_t columns_;
  const std::chrono::milliseconds min_interval_;
  std::mutex mutex_;
  std::vector<LayerProgress> layers_;         // in the order they were first reported
  std::map<std::string, std::size_t> index_;  // digest -> position in layers_
  std::size_t lines_drawn_ = 0;
  bool pending_ = false;  // an update not drawn yet
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace mcore::cli
