#pragma once
// What every fuzz target shares. A parser of untrusted bytes may refuse them only with mcore::Error (a
// message the user can act on); any other exception escaping, a crash or a sanitizer report is a bug,
// and libFuzzer stops on it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mcore/error.hpp"

namespace mcore::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `parse`, accepting mcore::Error as a refusal.
template <class Parse>
void refusing_with_errors(Parse&& parse) {
  try {
    parse();
  } catch (const Error&) {
  }
}

}  // namespace mcore::fuzz
