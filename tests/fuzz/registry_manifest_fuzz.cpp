// Manifests and indexes as a registry sends them: media type detection, parsing, platform choice.
#include "fuzz_target.hpp"
#include "manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = mcore::fuzz::as_text(data, size);
  mcore::fuzz::refusing_with_errors([&] {
    const std::string type = mcore::registry::detect_media_type("", body);
    if (mcore::registry::is_index_media_type(type)) {
      const auto entries = mcore::registry::parse_index(body);
      mcore::Platform wanted;
      wanted.os = "linux";
      wanted.architecture = "amd64";
      if (!entries.empty()) (void)mcore::registry::select_platform(entries, wanted);
    } else {
      (void)mcore::registry::parse_image_manifest(body);
    }
  });
  mcore::fuzz::refusing_with_errors([&] { (void)mcore::registry::parse_index(body); });
  mcore::fuzz::refusing_with_errors([&] { (void)mcore::registry::parse_image_manifest(body); });
  return 0;
}
