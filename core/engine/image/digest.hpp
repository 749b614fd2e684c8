#pragma once
// Content digests ("sha256:<hex>") computed incrementally, as bytes stream through a pull or an import.
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace mcore::engine {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(std::span<const std::byte> bytes);
  void update(std::string_view text);
  // "sha256:<64 lowercase hex>"; the object cannot be updated afterwards.
  std::string finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string sha256_digest(std::string_view content);

// True for "sha256:" followed by 64 lowercase hex digits (the only algorithm mcore stores).
bool is_valid_digest(std::string_view digest);

}  // namespace mcore::engine
