#pragma once
// Pulling with progress shown, shared by `mcore pull` (on stdout) and `mcore run` (on stderr, so the
// container's output stays clean). A terminal gets Docker's per-layer bars redrawn in place
// (terminal_progress.hpp); anything else gets one plain line per state change of a layer.
#include <ostream>

#include "cli/verbs.hpp"
#include "engine/image/image_puller.hpp"

namespace mcore::cli {

// "linux/arm64/v8" -> Platform; throws Error naming the bad value.
Platform parse_platform(const std::string& text);

// Pulls `reference`, reporting on `progress` (nothing when null). `progress_fd` is the descriptor
// behind that stream (STDOUT_FILENO for std::cout): whether it is a terminal, and how wide, picks the
// style, since an ostream cannot tell.
engine::ImageRecord pull_with_progress(engine::Engine& engine, const ImageReference& reference,
                                       const Platform& platform, std::ostream* progress, int progress_fd);

}  // namespace mcore::cli
