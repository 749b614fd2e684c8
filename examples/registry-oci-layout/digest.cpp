#include "digest.hpp"

#include <array>

#include <openssl/evp.h>

#include "mcore/error.hpp"

namespace oci_layout {

namespace {
constexpr std::string_view kPrefix = "sha256:";
constexpr std::string_view kHexDigits = "0123456789abcdef";
}  // namespace

std::string sha256_digest(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> hash{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), hash.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw mcore::Error("OpenSSL could not compute a sha256 digest");
  }
  std::string digest(kPrefix);
  for (unsigned int i = 0; i < length; ++i) {
    digest += kHexDigits[hash[i] >> 4];
    digest += kHexDigits[hash[i] & 0xf];
  }
  return digest;
}

bool is_sha256_digest(std::string_view digest) {
  if (!digest.starts_with(kPrefix)) return false;
  const auto hex = digest.substr(kPrefix.size());
  return hex.size() == 64 && hex.find_first_not_of(kHexDigits) == std::string_view::npos;
}

}  // namespace oci_layout
