#pragma once
// The one error type of mcore. Drivers and the engine throw it; only the CLI turns it into text and an
// exit code. It carries the failing step, errno when a system call failed, a chain of context added as
// the error travels up, and a hint telling the user what to do next.
#include <exception>
#include <string>

namespace mcore {

class Error : public std::exception {
 public:
  // `message` names what failed ("mount proc on /proc"); `error_number` is errno or 0.
  explicit Error(std::string message, int error_number = 0, std::string hint = {});
  ~Error() override;

  // Builds an Error from the current errno.
  static Error from_errno(std::string message, std::string hint = {});

  // Prepends context: Error("mount proc").add_context("start container 3f2a") reads
  // "start container 3f2a: mount proc: <strerror>".
  Error& add_context(const std::string& context);
  Error& set_hint(std::string hint);

  int error_number() const noexcept { return error_number_; }
  const std::string& hint() const noexcept { return hint_; }
  // The whole chain, with strerror(errno) appended when errno is set; no hint.
  const char* what() const noexcept override { return text_.c_str(); }

 private:
  void rebuild();
  std::string message_;
  int error_number_;
  std::string hint_;
  std::string text_;
};

}  // namespace mcore
