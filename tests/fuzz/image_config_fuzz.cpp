// An image's config blob: what it contributes to a container, and Docker's override rules on top.
#include <nlohmann/json.hpp>

#include "engine/image/image_config.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto document = nlohmann::json::parse(mcore::fuzz::as_text(data, size), nullptr, false);
  if (document.is_discarded() || !document.is_object()) return 0;
  mcore::fuzz::refusing_with_errors([&] {
    const auto defaults = mcore::engine::read_image_defaults(document.value("config", nlohmann::json::object()));
    (void)mcore::engine::container_command(defaults, std::nullopt, {});
  });
  return 0;
}
