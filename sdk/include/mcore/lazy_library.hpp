#pragma once
// A shared library opened on first use instead of linked: for libraries that only a rarer path needs,
// whose loading and relocation would otherwise be paid by every process that loads their user (the
// engine's libcrypto, libseccomp, zlib and libzstd, the bridge driver's libnftables). Header-only.
#include <dlfcn.h>
#include <link.h>

#include <mutex>
#include <string>

#include "mcore/error.hpp"

namespace mcore {

class LazyLibrary {
 public:
  // `soname` as dlopen takes it ("libnftables.so.1"); `install_hint` tells the user what to install
  // when it is missing ("install libnftables1").
  LazyLibrary(const char* soname, const char* install_hint) : soname_(soname), hint_(install_hint) {}
  LazyLibrary(const LazyLibrary&) = delete;
  LazyLibrary& operator=(const LazyLibrary&) = delete;

  // Opens the library (once; never closed) and resolves `name` into `function`. Throws Error naming
  // the library or the symbol. Not thread-safe: callers bind under their own std::call_once.
  template <class Function>
  void bind(const char* name, Function& function) {
    if (handle_ == nullptr) {
      handle_ = ::dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
      if (handle_ == nullptr) throw Error(std::string("cannot load ") + soname_ + ": " + ::dlerror(), 0, hint_);
    }
    function = reinterpret_cast<Function>(::dlsym(handle_, name));
    if (function == nullptr) throw Error(std::string(soname_) + " lacks " + name, 0, hint_);
  }

  // The file the dynamic loader opened for it, once a bind() has; empty before.
  std::string path() const {
    link_map* map = nullptr;
    if (handle_ == nullptr || ::dlinfo(handle_, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr) return {};
    return map->l_name;
  }

 private:
  const char* soname_;
  const char* hint_;
  void* handle_ = nullptr;
};

// The table of functions a library opened on first use provides: the first call opens the library and
// has `bind_all(LazyLibrary&, Functions&)` bind each function (once, even from several threads); every
// call returns the same table. A failed load throws Error, and the next call tries again. Each call
// site gets a table of its own (a lambda's type is unique).
template <class Functions, class BindAll>
const Functions& lazy_functions(const char* soname, const char* install_hint, BindAll bind_all) {
  static Functions functions;
  static LazyLibrary library(soname, install_hint);
  static std::once_flag bound;
  std::call_once(bound, [&] { bind_all(library, functions); });
  return functions;
}

}  // namespace mcore
