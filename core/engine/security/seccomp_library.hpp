#pragma once
// libseccomp, opened on first use instead of linked: it compiles a profile, which a container start
// needs only when its program is not cached (seccomp_cache.hpp). Mapping and relocating it cost every
// mcore command about 0.35 ms (measured). seccomp() throws Error when the library cannot be loaded.
#include <seccomp.h>

#include <string>

namespace mcore::engine {

struct SeccompFunctions {
  decltype(&::seccomp_init) init = nullptr;
  decltype(&::seccomp_release) release = nullptr;
  decltype(&::seccomp_attr_set) attr_set = nullptr;
  decltype(&::seccomp_arch_add) arch_add = nullptr;
  decltype(&::seccomp_arch_native) arch_native = nullptr;
  decltype(&::seccomp_arch_resolve_name) arch_resolve_name = nullptr;
  decltype(&::seccomp_syscall_resolve_name) syscall_resolve_name = nullptr;
  decltype(&::seccomp_rule_add_array) rule_add_array = nullptr;
  decltype(&::seccomp_export_bpf) export_bpf = nullptr;
  std::string path;  // the file it was loaded from, as the dynamic loader found it
};

const SeccompFunctions& seccomp();

}  // namespace mcore::engine
