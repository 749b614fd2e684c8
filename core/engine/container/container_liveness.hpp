#pragma once
// What is true about a container right now. A record says "running" from the moment its command was
// exec'd, but only the supervisor's liveness lock proves it still is: the supervisor holds an OFD lock on
// <state_root>/containers/<id>/supervisor.lock for its whole life, and the container's init dies with
// its supervisor (PR_SET_PDEATHSIG), so "lock free" means "nothing of the container runs".
#include <filesystem>
#include <optional>
#include <string>

#include "engine/context/config.hpp"
#include "engine/container/container_store.hpp"

namespace mcore::engine {

// The runtime directory of one container and the files in it.
struct ContainerRuntimePaths {
  std::filesystem::path dir;              // <state_root>/containers/<id>
  std::filesystem::path supervisor_lock;  // held (OFD write lock) while the supervisor lives
  std::filesystem::path socket;           // the supervisor's SOCK_SEQPACKET socket (supervisor_protocol.hpp)
  std::filesystem::path exit_file;        // "<exit code> <RFC 3339 time>\n", written when the command exits
};
ContainerRuntimePaths runtime_paths(const Config& config, const std::string& id);

// True while some process holds the supervisor lock. Takes no lock itself.
bool supervisor_alive(const ContainerRuntimePaths& paths);

struct ExitReport {
  int exit_code = 0;
  std::string finished_at;
};
// The exit file of the container's last run, when the supervisor wrote one.
std::optional<ExitReport> read_exit_report(const ContainerRuntimePaths& paths);

// The record as `ps` and `inspect` must show it: a record claiming running/paused/restarting whose
// supervisor is gone reads as exited, with the exit file's code and time, or 255 when the supervisor
// died before writing one (Docker's code for a container lost with its daemon). Reads only.
ContainerRecord observe_container(const Config& config, ContainerRecord record);

}  // namespace mcore::engine
