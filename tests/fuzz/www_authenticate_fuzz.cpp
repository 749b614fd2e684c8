// WWW-Authenticate headers of registries: Bearer and Basic challenges with quoted parameters.
#include "auth_challenge.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mcore::fuzz::refusing_with_errors(
      [&] { (void)mcore::registry::parse_www_authenticate(mcore::fuzz::as_text(data, size)); });
  return 0;
}
