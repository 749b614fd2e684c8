// OCI bundles' config.json as mcore-oci reads it: whatever a client or a bundle's author wrote, the
// parser accepts it or refuses it with an Error naming the field, and never crashes.
#include <nlohmann/json.hpp>

#include "engine/oci/runtime_spec.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto document = nlohmann::json::parse(mcore::fuzz::as_text(data, size), nullptr, false);
  if (document.is_discarded()) return 0;
  mcore::fuzz::refusing_with_errors([&] { (void)mcore::engine::parse_runtime_spec(document, "/bundle"); });
  return 0;
}
