#pragma once
// Pulling with progress shown, shared by `mcore pull` (on stdout) and `mcore run` (on stderr, so the
// container's output stays clean).
#include <ostream>

#include "cli/verbs.hpp"
#include "engine/image_puller.hpp"

namespace mcore::cli {

// "linux/arm64/v8" -> Platform; throws Error naming the bad value.
Platform parse_platform(const std::string& text);

engine::ImageRecord pull_with_progress(engine::Engine& engine, const ImageReference& reference,
                                       const Platform& platform, std::ostream* progress);

}  // namespace mcore::cli
