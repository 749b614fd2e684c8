// Image references as users and registries write them (`alpine`, `localhost:5000/a/b:t@sha256:...`).
// Besides not crashing: what parses prints back to a reference that parses to the same thing.
#include <cstdlib>

#include "fuzz_target.hpp"
#include "mcore/image_reference.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mcore::fuzz::refusing_with_errors([&] {
    const mcore::ImageReference reference = mcore::parse_image_reference(mcore::fuzz::as_text(data, size));
    const std::string printed = mcore::to_string(reference);
    if (mcore::to_string(mcore::parse_image_reference(printed)) != printed) std::abort();
    (void)mcore::familiar_name(reference);
  });
  return 0;
}
