#pragma once
// Which of an image's names a user meant, for verbs that act on a name rather than the whole image.
#include <optional>
#include <string>

#include "engine/api/images.hpp"

namespace mcore::cli {

// The stored name `text` denotes, if it is a name of `image` as typed or normalised ("busybox" ->
// "docker.io/library/busybox:latest"); nullopt when `text` named the image by id.
std::optional<std::string> matched_name(const engine::ImageRecord& image, const std::string& text);

}  // namespace mcore::cli
