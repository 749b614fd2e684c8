#pragma once
// How `mcore exec` hands its plan to mcore-enter, the small static program that enters the container
// (enter/main.cpp): the process part of an InitPlan and the namespaces to join, as bytes in a memfd.
// mcore and mcore-enter are built from this one file in one build, so the format carries no version.
#include <string>
#include <string_view>

#include "engine/init/init_plan.hpp"

namespace mcore::engine {

// Descriptors beyond stdio a request may pass on to the command (mcore-oci exec --preserve-fds).
inline constexpr int kMaxPreservedFds = 1024;

struct EnterRequest {
  InitPlan process;    // argv, envp, user, working directory, capabilities, seccomp, terminal
  int namespaces = 0;  // CLONE_NEW* flags to join through the container init's pidfd
};

// The bytes of a request for `process` (built by build_process_plan, seccomp set).
std::string encode_enter_request(const InitPlan& process, int namespaces);

// Fills `request` from `bytes`; false when they are malformed (truncated, or counts beyond their size).
bool decode_enter_request(std::string_view bytes, EnterRequest& request);

}  // namespace mcore::engine
