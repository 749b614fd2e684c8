// Deployment files for `mcore up`: the native JSON, or Compose YAML with ${VAR} interpolation, read and
// checked by one validator. The file lives in a scratch directory of its own (no .env, no env files).
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/deploy/deployment_file.hpp"
#include "fuzz_target.hpp"

namespace {

const std::filesystem::path& scratch_file() {
  static const std::filesystem::path file = [] {
    const char* base = std::getenv("TMPDIR");
    std::string dir = std::string(base != nullptr ? base : "/tmp") + "/mcore-fuzz-deployment-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) std::abort();
    return std::filesystem::path(dir) / "deployment.yaml";
  }();
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  {
    std::ofstream out(scratch_file(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  mcore::fuzz::refusing_with_errors([] { (void)mcore::engine::read_deployment(scratch_file()); });
  return 0;
}
