#include "mcore/error.hpp"

#include <cerrno>
#include <cstring>

namespace mcore {

Error::Error(std::string message, int error_number, std::string hint)
    : message_(std::move(message)), error_number_(error_number), hint_(std::move(hint)) {
  rebuild();
}

Error::~Error() = default;

Error Error::from_errno(std::string message, std::string hint) {
  return Error(std::move(message), errno, std::move(hint));
}

Error& Error::add_context(const std::string& context) {
  message_ = context + ": " + message_;
  rebuild();
  return *this;
}

Error& Error::set_hint(std::string hint) {
  hint_ = std::move(hint);
  return *this;
}

void Error::rebuild() {
  text_ = message_;
  if (error_number_ != 0) {
    text_ += ": ";
    text_ += std::strerror(error_number_);
  }
}

}  // namespace mcore
