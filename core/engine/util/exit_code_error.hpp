#pragma once
// An Error that carries the exit code a front end gives for it: 125, 126 or 127 when a
// container's command never ran, 1 for a refusal, as Docker's CLI does.
#include <utility>

#include "mcore/error.hpp"

namespace mcore::engine {

class ExitCodeError : public Error {
 public:
  ExitCodeError(Error error, int exit_code) : Error(std::move(error)), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

}  // namespace mcore::engine
