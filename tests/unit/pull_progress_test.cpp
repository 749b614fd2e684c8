// The terminal pull progress: Docker's sizes, bars and lines as pure text, and the renderer's frames
// (cursor-up over what it drew before, the last frame complete) written into a string.
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cli/terminal_progress.hpp"

namespace mcore::cli {
namespace {

using engine::LayerState;
using namespace std::chrono_literals;

const std::string kDigestA = "sha256:aaaaaaaaaaaa0000000000000000000000000000000000000000000000000000";
const std::string kDigestB = "sha256:bbbbbbbbbbbb0000000000000000000000000000000000000000000000000000";

// One drawn frame: how far it moved the cursor up first, and its lines.
struct Frame {
  std::size_t up = 0;
  std::vector<std::string> lines;
};

// Splits a renderer's output into frames: an optional "\x1b[<n>A", then lines "\x1b[2K\r<text>\n".
std::vector<Frame> frames_of(const std::string& output) {
  static const std::string kErase = "\x1b[2K\r";
  std::vector<Frame> frames;
  std::size_t at = 0;
  while (at < output.size()) {
    Frame frame;
    if (output.compare(at, 2, "\x1b[") == 0) {
      const auto end = output.find_first_not_of("0123456789", at + 2);
      if (end != std::string::npos && end > at + 2 && output[end] == 'A') {
        frame.up = std::stoul(output.substr(at + 2, end - at - 2));
        at = end + 1;
      }
    }
    while (output.compare(at, kErase.size(), kErase) == 0) {
      const auto newline = output.find('\n', at);
      if (newline == std::string::npos) break;
      frame.lines.push_back(output.substr(at + kErase.size(), newline - at - kErase.size()));
      at = newline + 1;
    }
    if (frame.lines.empty()) {
      ADD_FAILURE() << "not a frame at byte " << at << " of " << output;
      break;
    }
    frames.push_back(frame);
  }
  return frames;
}

TEST(HumanSize, DecimalUnitsWithFourSignificantDigitsLikeDocker) {
  EXPECT_EQ(human_size(0), "0B");
  EXPECT_EQ(human_size(532), "532B");
  EXPECT_EQ(human_size(1000), "1kB");
  EXPECT_EQ(human_size(1500), "1.5kB");
  EXPECT_EQ(human_size(12'300'000), "12.3MB");
  EXPECT_EQ(human_size(12'345'678), "12.35MB");
  EXPECT_EQ(human_size(45'600'000), "45.6MB");
  EXPECT_EQ(human_size(3'221'225'472), "3.221GB");
  EXPECT_EQ(human_size(2'000'000'000'000), "2TB");
}

TEST(ProgressBar, WidthsAtNoneHalfAndAll) {
  EXPECT_EQ(progress_bar(0, 100, 50), "[>" + std::string(50, ' ') + "]");
  EXPECT_EQ(progress_bar(50, 100, 50), "[" + std::string(25, '=') + ">" + std::string(25, ' ') + "]");
  EXPECT_EQ(progress_bar(100, 100, 50), "[" + std::string(50, '=') + ">]");
  EXPECT_EQ(progress_bar(99, 100, 10), "[=========> ]");
  // More than announced is shown as full, not as an overflowing bar.
  EXPECT_EQ(progress_bar(150, 100, 10), "[==========>]");
  for (std::uint64_t done : {0u, 1u, 33u, 50u, 99u, 100u, 250u}) {
    EXPECT_EQ(progress_bar(done, 100, 20).size(), 23u) << done;
  }
}

TEST(LayerLine, OneLinePerState) {
  LayerProgress layer{"0123456789ab", LayerState::waiting, 0, 0};
  EXPECT_EQ(layer_line(layer, 120), "0123456789ab: Waiting");
  layer.state = LayerState::extracting;
  EXPECT_EQ(layer_line(layer, 120), "0123456789ab: Extracting");
  layer.state = LayerState::done;
  EXPECT_EQ(layer_line(layer, 120), "0123456789ab: Pull complete");
  layer.state = LayerState::already_exists;
  EXPECT_EQ(layer_line(layer, 120), "0123456789ab: Already exists");

  layer = {"0123456789ab", LayerState::downloading, 12'300'000, 45'600'000};
  // 12.3 of 45.6 is 26.97 %: 13 of 50 cells.
  EXPECT_EQ(layer_line(layer, 120), "0123456789ab: Downloading [" + std::string(13, '=') + ">" +
                                        std::string(37, ' ') + "]   12.3MB/45.6MB");
}

TEST(LayerLine, UnknownTotalShowsOnlyTheCount) {
  EXPECT_EQ(layer_line({"0123456789ab", LayerState::downloading, 1500, 0}, 120),
            "0123456789ab: Downloading    1.5kB");
  // More than the announced size: no bar, no misleading total.
  EXPECT_EQ(layer_line({"0123456789ab", LayerState::downloading, 2000, 1000}, 120),
            "0123456789ab: Downloading      2kB");
}

TEST(LayerLine, NeverWiderThanTheTerminal) {
  const LayerProgress layer{"0123456789ab", LayerState::downloading, 5'000'000, 10'000'000};
  const auto wide = layer_line(layer, 200);
  EXPECT_NE(wide.find("[" + std::string(25, '=') + ">" + std::string(25, ' ') + "]"), std::string::npos)
      << wide;

  const auto eighty = layer_line(layer, 80);
  EXPECT_EQ(eighty.size(), 79u) << eighty;
  EXPECT_NE(eighty.find("=>"), std::string::npos) << eighty;
  EXPECT_TRUE(eighty.ends_with("     5MB/10MB")) << eighty;

  // Too narrow for a useful bar: the numbers only.
  EXPECT_EQ(layer_line(layer, 50), "0123456789ab: Downloading      5MB/10MB");
  // Narrower than even that: cut, never wrapped.
  EXPECT_EQ(layer_line(layer, 20), "0123456789ab: Downl");
}

TEST(FrameText, MovesUpOverThePreviousFrameAndRewritesEveryLine) {
  const std::vector<LayerProgress> layers = {{"aaaaaaaaaaaa", LayerState::done, 0, 0},
                                             {"bbbbbbbbbbbb", LayerState::waiting, 0, 0}};
  EXPECT_EQ(frame_text(layers, 0, 80),
            "\x1b[2K\raaaaaaaaaaaa: Pull complete\n\x1b[2K\rbbbbbbbbbbbb: Waiting\n");
  EXPECT_EQ(frame_text(layers, 1, 80),
            "\x1b[1A\x1b[2K\raaaaaaaaaaaa: Pull complete\n\x1b[2K\rbbbbbbbbbbbb: Waiting\n");
  EXPECT_EQ(frame_text(layers, 2, 80).substr(0, 4), "\x1b[2A");
}

TEST(TerminalProgress, RedrawsInPlaceOverTheLinesAlreadyDrawn) {
  std::ostringstream out;
  TerminalProgress progress(out, 120, 0ms);
  progress.layer(kDigestA, LayerState::waiting, 0, 0);
  progress.layer(kDigestB, LayerState::already_exists, 0, 0);
  progress.layer(kDigestA, LayerState::downloading, 500, 1000);
  progress.layer(kDigestA, LayerState::extracting, 0, 0);
  progress.layer(kDigestA, LayerState::done, 0, 0);
  progress.finish();

  const auto frames = frames_of(out.str());
  ASSERT_EQ(frames.size(), 5u) << out.str();
  EXPECT_EQ(frames[0].up, 0u);
  EXPECT_EQ(frames[0].lines, std::vector<std::string>{"aaaaaaaaaaaa: Waiting"});
  EXPECT_EQ(frames[1].up, 1u);
  EXPECT_EQ(frames[1].lines,
            (std::vector<std::string>{"aaaaaaaaaaaa: Waiting", "bbbbbbbbbbbb: Already exists"}));
  for (std::size_t i = 2; i < frames.size(); ++i) EXPECT_EQ(frames[i].up, 2u) << "frame " << i;
  EXPECT_NE(frames[2].lines[0].find("Downloading ["), std::string::npos) << frames[2].lines[0];
  EXPECT_NE(frames[2].lines[0].find("   500B/1kB"), std::string::npos) << frames[2].lines[0];
  EXPECT_EQ(frames[3].lines[0], "aaaaaaaaaaaa: Extracting");
  EXPECT_EQ(frames[4].lines,
            (std::vector<std::string>{"aaaaaaaaaaaa: Pull complete", "bbbbbbbbbbbb: Already exists"}));
}

TEST(TerminalProgress, ByteCountsAreThrottledStateChangesAreNot) {
  std::ostringstream out;
  TerminalProgress progress(out, 120, 1h);
  progress.layer(kDigestA, LayerState::downloading, 1, 1000);
  for (std::uint64_t done = 2; done <= 1000; ++done)
    progress.layer(kDigestA, LayerState::downloading, done, 1000);
  EXPECT_EQ(frames_of(out.str()).size(), 1u) << "byte counts within the interval were drawn";
  // The pending count shows in the last frame.
  progress.finish();
  auto frames = frames_of(out.str());
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_NE(frames[1].lines[0].find("1kB/1kB"), std::string::npos) << frames[1].lines[0];
  // Nothing new: finish() does not draw again.
  progress.finish();
  EXPECT_EQ(frames_of(out.str()).size(), 2u);
  progress.layer(kDigestA, LayerState::done, 0, 0);
  frames = frames_of(out.str());
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[2].lines[0], "aaaaaaaaaaaa: Pull complete");
}

TEST(TerminalProgress, ConcurrentLayersEndInAFrameWithEveryLayerDone) {
  std::ostringstream out;
  TerminalProgress progress(out, 100, 1ms);
  constexpr int kLayers = 6;
  std::vector<std::string> digests;
  for (int i = 0; i < kLayers; ++i) {
    digests.push_back("sha256:" + std::string(12, static_cast<char>('a' + i)) + std::string(52, '0'));
    progress.layer(digests.back(), LayerState::waiting, 0, 0);
  }
  std::vector<std::thread> workers;
  for (int i = 0; i < kLayers; ++i) {
    workers.emplace_back([&, i] {
      for (std::uint64_t done = 0; done <= 200'000; done += 1000) {
        progress.layer(digests[i], LayerState::downloading, done, 200'000);
      }
      progress.layer(digests[i], LayerState::extracting, 0, 0);
      progress.layer(digests[i], LayerState::done, 0, 0);
    });
  }
  for (auto& worker : workers) worker.join();
  progress.finish();

  const auto frames = frames_of(out.str());
  ASSERT_GE(frames.size(), static_cast<std::size_t>(kLayers));
  // Every frame moves up exactly over the lines of the frame before it, so nothing scrolls away.
  for (std::size_t i = 1; i < frames.size(); ++i) {
    ASSERT_EQ(frames[i].up, frames[i - 1].lines.size()) << "frame " << i;
  }
  const auto& last = frames.back();
  ASSERT_EQ(last.lines.size(), static_cast<std::size_t>(kLayers));
  for (int i = 0; i < kLayers; ++i) {
    EXPECT_EQ(last.lines[i], std::string(12, static_cast<char>('a' + i)) + ": Pull complete");
  }
}

}  // namespace
}  // namespace mcore::cli
