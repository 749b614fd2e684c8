#include "engine/security/seccomp_library.hpp"

#include "mcore/lazy_library.hpp"

namespace mcore::engine {

const SeccompFunctions& seccomp() {
  auto bind_all = [](LazyLibrary& library, SeccompFunctions& f) {
    library.bind("seccomp_init", f.init);
    library.bind("seccomp_release", f.release);
    library.bind("seccomp_attr_set", f.attr_set);
    library.bind("seccomp_arch_add", f.arch_add);
    library.bind("seccomp_arch_native", f.arch_native);
    library.bind("seccomp_arch_resolve_name", f.arch_resolve_name);
    library.bind("seccomp_syscall_resolve_name", f.syscall_resolve_name);
    library.bind("seccomp_rule_add_array", f.rule_add_array);
    library.bind("seccomp_export_bpf", f.export_bpf);
    f.path = library.path();
  };
  return lazy_functions<SeccompFunctions>("libseccomp.so.2", "install libseccomp (libseccomp2)", bind_all);
}

}  // namespace mcore::engine
