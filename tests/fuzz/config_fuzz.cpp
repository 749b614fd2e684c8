// mcore's own config file (/etc/mcore/config.json), as an administrator or a deployment tool wrote it.
#include <nlohmann/json.hpp>

#include "engine/context/config.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto document = nlohmann::json::parse(mcore::fuzz::as_text(data, size), nullptr, false);
  if (document.is_discarded()) return 0;
  mcore::fuzz::refusing_with_errors([&] { (void)mcore::engine::parse_config(document, "fuzz input").to_json(); });
  return 0;
}
