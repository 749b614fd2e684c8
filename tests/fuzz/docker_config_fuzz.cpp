// ~/.docker/config.json: auths (base64 user:password), credential helpers, and the lookups on it.
#include "docker_config.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mcore::fuzz::refusing_with_errors([&] {
    const auto config = mcore::registry::parse_docker_config(mcore::fuzz::as_text(data, size), "fuzz input");
    for (const char* registry : {"docker.io", "localhost:5000", "registry.example.com"}) {
      (void)mcore::registry::find_credentials(config, registry);
    }
  });
  return 0;
}
