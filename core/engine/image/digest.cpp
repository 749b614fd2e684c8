#include "engine/image/digest.hpp"

#include <algorithm>

#include <openssl/evp.h>

#include "mcore/error.hpp"
#include "mcore/lazy_library.hpp"

namespace mcore::engine {

namespace {

// libcrypto is opened on the first digest, not linked: loading and relocating it costs every mcore
// command about 1.5 ms (measured), and the container start path never hashes.
struct Crypto {
  decltype(&EVP_MD_CTX_new) md_ctx_new = nullptr;
  decltype(&EVP_MD_CTX_free) md_ctx_free = nullptr;
  decltype(&EVP_sha256) sha256 = nullptr;
  decltype(&EVP_DigestInit_ex) init = nullptr;
  decltype(&EVP_DigestUpdate) update = nullptr;
  decltype(&EVP_DigestFinal_ex) final = nullptr;
};

const Crypto& crypto() {
  auto bind_all = [](LazyLibrary& library, Crypto& f) {
    library.bind("EVP_MD_CTX_new", f.md_ctx_new);
    library.bind("EVP_MD_CTX_free", f.md_ctx_free);
    library.bind("EVP_sha256", f.sha256);
    library.bind("EVP_DigestInit_ex", f.init);
    library.bind("EVP_DigestUpdate", f.update);
    library.bind("EVP_DigestFinal_ex", f.final);
  };
  return lazy_functions<Crypto>(MCORE_LIBCRYPTO_SONAME, "install OpenSSL 3 (libssl3)", bind_all);
}

struct ContextDeleter {
  void operator()(EVP_MD_CTX* context) const noexcept { crypto().md_ctx_free(context); }
};

}  // namespace

struct Sha256::State {
  std::unique_ptr<EVP_MD_CTX, ContextDeleter> context;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  const Crypto& c = crypto();
  state_->context.reset(c.md_ctx_new());
  if (!state_->context || c.init(state_->context.get(), c.sha256(), nullptr) != 1) {
    throw Error("start a sha256 digest: OpenSSL failed", 0,
                "check that libcrypto (OpenSSL 3) is installed intact");
  }
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const std::byte> bytes) {
  if (!state_ || !state_->context) throw Error("sha256: update after finish");
  if (bytes.empty()) return;
  if (crypto().update(state_->context.get(), bytes.data(), bytes.size()) != 1) {
    throw Error("sha256: OpenSSL failed to hash data");
  }
}

void Sha256::update(std::string_view text) { update(std::as_bytes(std::span(text.data(), text.size()))); }

std::string Sha256::finish() {
  if (!state_ || !state_->context) throw Error("sha256: finish called twice");
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (crypto().final(state_->context.get(), raw, &length) != 1)
    throw Error("sha256: OpenSSL failed to finish");
  state_->context.reset();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string digest = "sha256:";
  digest.reserve(7 + 2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    digest += kHex[raw[i] >> 4];
    digest += kHex[raw[i] & 0x0f];
  }
  return digest;
}

std::string sha256_digest(std::string_view content) {
  Sha256 hash;
  hash.update(content);
  return hash.finish();
}

bool is_valid_digest(std::string_view digest) {
  constexpr std::string_view prefix = "sha256:";
  if (!digest.starts_with(prefix) || digest.size() != prefix.size() + 64) return false;
  return std::all_of(digest.begin() + prefix.size(), digest.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace mcore::engine
