#include "cli/image_names.hpp"

#include <algorithm>

#include "mcore/error.hpp"
#include "mcore/image_reference.hpp"

namespace mcore::cli {

std::optional<std::string> matched_name(const engine::ImageRecord& image, const std::string& text) {
  const auto has = [&](const std::string& name) {
    return std::find(image.names.begin(), image.names.end(), name) != image.names.end();
  };
  if (has(text)) return text;
  try {
    const std::string normalised = to_string(parse_image_reference(text));
    if (has(normalised)) return normalised;
  } catch (const Error&) {
  }
  return std::nullopt;
}

}  // namespace mcore::cli
