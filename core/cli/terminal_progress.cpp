#include "cli/terminal_progress.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace mcore::cli {
namespace {

constexpr std::size_t kFullBarWidth = 50;  // Docker's
constexpr std::size_t kNarrowestBar = 10;  // below this a bar says nothing; show only the numbers

// Docker's "%8v": right-aligned in eight columns.
std::string pad_left(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

}  // namespace

std::string short_layer_id(const std::string& digest) {
  const auto colon = digest.find(':');
  return digest.substr(colon == std::string::npos ? 0 : colon + 1, 12);
}

const char* layer_state_text(engine::LayerState state) {
  switch (state) {
    case engine::LayerState::waiting: return "Waiting";
    case engine::LayerState::waiting_for_other_pull: return "Waiting for another pull";
    case engine::LayerState::downloading: return "Downloading";
    case engine::LayerState::extracting: return "Extracting";
    case engine::LayerState::done: return "Pull complete";
    case engine::LayerState::already_exists: return "Already exists";
  }
  return "";
}

std::string human_size(std::uint64_t bytes) {
  static constexpr std::array<const char*, 7> kUnits = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  auto size = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (size >= 1000 && unit + 1 < kUnits.size()) {
    size /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.4g%s", size, kUnits[unit]);
  return text;
}

std::string progress_bar(std::uint64_t done, std::uint64_t total, std::size_t width) {
  std::size_t filled = width;
  if (total > 0 && done < total) {
    filled =
        static_cast<std::size_t>(static_cast<long double>(done) * width / static_cast<long double>(total));
  }
  return "[" + std::string(filled, '=') + ">" + std::string(width - filled, ' ') + "]";
}

std::string layer_line(const LayerProgress& layer, std::size_t columns) {
  std::string line = layer.id + ": " + layer_state_text(layer.state);
  if (layer.state == engine::LayerState::downloading) {
    // Like Docker: the count alone when the total is unknown or overtaken.
    const bool known = layer.total > 0 && layer.done <= layer.total;
    const std::string numbers =
        pad_left(human_size(layer.done), 8) + (known ? "/" + human_size(layer.total) : std::string());
    std::string bar;
    if (known) {
      // "<line> [bar] <numbers>" must fit in columns - 1; the brackets, '>' and two spaces take 5.
      const std::size_t used = line.size() + numbers.size() + 5;
      const std::size_t room = columns > used + 1 ? columns - used - 1 : 0;
      const std::size_t width = std::min(kFullBarWidth, room);
      if (width >= kNarrowestBar) bar = " " + progress_bar(layer.done, layer.total, width);
    }
    line += bar + " " + numbers;
  }
  if (columns > 0 && line.size() > columns - 1) line.resize(columns - 1);
  return line;
}

std::string frame_text(const std::vector<LayerProgress>& layers, std::size_t lines_drawn,
                       std::size_t columns) {
  std::string text;
  if (lines_drawn > 0) text += "\x1b[" + std::to_string(lines_drawn) + "A";
  for (const auto& layer : layers) text += "\x1b[2K\r" + layer_line(layer, columns) + "\n";
  return text;
}

TerminalProgress::TerminalProgress(std::ostream& out, std::size_t columns,
                                   std::chrono::milliseconds min_interval)
    : out_(out), columns_(columns), min_interval_(min_interval) {}

void TerminalProgress::layer(const std::string& digest, engine::LayerState state, std::uint64_t done,
                             std::uint64_t total) {
  std::lock_guard lock(mutex_);
  const auto [slot, added] = index_.try_emplace(digest, layers_.size());
  if (added) layers_.push_back({short_layer_id(digest), state, 0, 0});
  auto& entry = layers_[slot->second];
  const bool changed = added || entry.state != state;
  entry.state = state;
  if (state == engine::LayerState::downloading) {
    entry.done = done;
    entry.total = total;
  }
  pending_ = true;
  if (changed || std::chrono::steady_clock::now() - last_draw_ >= min_interval_) draw();
}

void TerminalProgress::finish() {
  std::lock_guard lock(mutex_);
  if (pending_) draw();
}

void TerminalProgress::draw() {
  out_ << frame_text(layers_, lines_drawn_, columns_) << std::flush;
  lines_drawn_ = layers_.size();
  pending_ = false;
  last_draw_ = std::chrono::steady_clock::now();
}

}  // namespace mcore::cli
