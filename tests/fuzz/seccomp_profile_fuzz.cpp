// Seccomp profiles given with --security-opt seccomp=FILE, in Docker's JSON format, compiled to BPF.
#include <nlohmann/json.hpp>

#include "engine/security/capabilities.hpp"
#include "engine/security/seccomp_profile.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto document = nlohmann::json::parse(mcore::fuzz::as_text(data, size), nullptr, false);
  if (document.is_discarded()) return 0;
  mcore::fuzz::refusing_with_errors([&] {
    (void)mcore::engine::compile_seccomp_profile(document, mcore::engine::default_capabilities());
  });
  return 0;
}
