#pragma once
// Runs a cleanup when the scope ends, unless dismissed: the undo steps of a multi-step setup.
#include <utility>

namespace mcore::engine {

template <class Function>
class ScopeExit {
 public:
  explicit ScopeExit(Function function) : function_(std::move(function)) {}
  ~ScopeExit() {
    if (active_) function_();
  }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  void dismiss() { active_ = false; }

 private:
  Function function_;
  bool active_ = true;
};

}  // namespace mcore::engine
