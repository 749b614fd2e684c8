#pragma once
// Seccomp profiles in Docker's JSON format, compiled with libseccomp into a BPF program in the parent
// process, so the container init only has to hand the ready program to the kernel.
#include <filesystem>
#include <vector>

#include <linux/filter.h>
#include <nlohmann/json.hpp>

#include "engine/security/capabilities.hpp"

namespace mcore::engine {

struct SeccompProgram {
  std::vector<sock_filter> instructions;  // empty: no filter (unconfined)
  unsigned int flags = 0;                 // SECCOMP_FILTER_FLAG_* for seccomp(2)
};

// Docker's default profile: an allow list (everything else fails with EPERM), with the rules Docker
// conditions on capabilities (e.g. mount only with CAP_SYS_ADMIN) following `capabilities`.
SeccompProgram compile_default_seccomp(CapabilitySet capabilities);

// Docker's default profile (Docker 26) in Docker's JSON format: what compile_default_seccomp compiles,
// and a starting point for users writing their own.
nlohmann::json default_seccomp_profile();

// A profile in Docker's format (defaultAction, defaultErrnoRet, architectures/archMap, syscalls[] with
// names, action, errnoRet, args, includes/excludes by caps and arches). Throws Error naming the
// offending field.
SeccompProgram compile_seccomp_profile(const nlohmann::json& profile, CapabilitySet capabilities);

// Reads and compiles a profile file (--security-opt seccomp=FILE). Throws Error naming the file.
SeccompProgram compile_seccomp_file(const std::filesystem::path& file, CapabilitySet capabilities);

// Container init side, async-signal-safe: installs the program with seccomp(2) without setting
// no_new_privs (the caller must still hold CAP_SYS_ADMIN unless no_new_privs is already set).
// Returns 0 or an errno value. An empty program installs nothing.
int install_seccomp(const SeccompProgram& program) noexcept;

}  // namespace mcore::engine
