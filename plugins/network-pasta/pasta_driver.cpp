#include "pasta_driver.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <system_error>

#include "mcore/child_process.hpp"
#include "mcore/config_section.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::pasta {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNetwork = "pasta";

// A host port the kernel has free now, for -p CTR without a host port (Docker picks one too).
std::uint16_t free_port(const std::string& protocol) {
  UniqueFd probe(::socket(AF_INET, protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  socklen_t length = sizeof address;
  if (!probe || ::bind(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw Error::from_errno("choose a free host port");
  }
  return ntohs(address.sin_port);
}

// pasta's -t/-u argument: "[ADDR/]HOST:CONTAINER".
std::string port_argument(const PortMapping& port) {
  return (port.host_ip.empty() ? "" : port.host_ip + "/") + std::to_string(port.host_port) + ":" +
         std::to_string(port.container_port);
}

// The running pasta a pid file names, as a pidfd; none when it is gone or the pid is another program's.
UniqueFd pasta_process(const fs::path& pid_file) {
  std::ifstream in(pid_file);
  pid_t pid = 0;
  if (!(in >> pid) || pid <= 0) return {};
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) return {};
  // Checked after the pidfd pins the process: a reused pid cannot slip in between.
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  if (!(comm >> name) || (!name.starts_with("pasta") && !name.starts_with("passt"))) return {};
  return pidfd;
}

}  // namespace

PastaDriver::PastaDriver(const HostContext& context)
    : logger_(context.logger ? context.logger->clone("pasta") : std::make_shared<spdlog::logger>("pasta")),
      state_dir_(context.state_root / "network" / "pasta") {
  ConfigSection config(context.config, context.config_path.empty() ? "network" : context.config_path);
  if (auto binary = config.get_string("binary")) binary_ = *binary;
  config.reject_unknown_keys();
}

fs::path PastaDriver::pid_file(const std::string& container_id) const {
  return state_dir_ / (container_id + ".pid");
}

NetworkInfo PastaDriver::create_network(const NetworkSpec& spec) {
  if (spec.name == kNetwork) return list_networks().front();
  throw Error("network " + spec.name + ": the pasta driver has one network, \"pasta\", and makes no others",
              0, "run containers with --network pasta, none or host");
}

void PastaDriver::remove_network(const std::string& name) {
  if (name == kNetwork) {
    throw Error("the pasta network cannot be removed: it is the pasta driver's only network", 0,
                "leave it; it holds nothing when no container uses it");
  }
}

std::vector<NetworkInfo> PastaDriver::list_networks() const {
  NetworkInfo info;
  info.name = kNetwork;
  info.id = kNetwork;
  info.driver = kNetwork;
  info.is_default = true;
  info.details = {{"binary", binary_}};
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(state_dir_, ignored)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".pid")) info.containers[name.substr(0, name.size() - 4)] = "";
  }
  return {info};
}

Endpoint PastaDriver::attach(const NetworkAttachment& attachment) {
  if (attachment.network != kNetwork) {
    throw Error("network " + attachment.network + " is not the pasta driver's", 0,
                "use --network pasta, none or host");
  }
  std::error_code error;
  fs::create_directories(state_dir_, error);
  if (error) throw Error("create " + state_dir_.string(), error.value());
  const fs::path pid_path = pid_file(attachment.container_id);

  Endpoint endpoint;
  endpoint.network = kNetwork;
  endpoint.default_network = true;
  endpoint.interface_name = "eth0";
  std::vector<std::string> argv = {
      binary_, "--config-net", "--quiet", "--netns", attachment.netns_path.string(), "--ns-ifname", "eth0",
      "--pid", pid_path.string(), "--no-map-gw",
      // Root of the user's namespace only; as nobody it could not open the namespace.
      "--runas", "0:0",
      // The host's loopback stays out of reach from the container's.
      "-T", "none", "-U", "none"};
  std::vector<std::string> tcp, udp;
  for (PortMapping port : attachment.ports) {
    if (port.host_port == 0) port.host_port = free_port(port.protocol);
    (port.protocol == "udp" ? udp : tcp).push_back(port_argument(port));
    endpoint.ports.push_back(port);
  }
  for (const auto& [flag, specs] : {std::pair{"-t", &tcp}, std::pair{"-u", &udp}}) {
    argv.push_back(flag);
    argv.push_back(specs->empty() ? "none" : "");
    for (const std::string& spec : *specs) argv.back() += (argv.back().empty() ? "" : ",") + spec;
  }
  ChildOptions options;
  options.timeout = std::chrono::seconds(10);
  ChildResult result;
  try {
    // pasta returns once the namespace is set up and it serves it from the background.
    result = run_child(argv, options);
  } catch (Error& failed) {
    if (failed.error_number() == ENOENT) failed.set_hint("install pasta (as root: apt-get install passt)");
    throw;
  }
  if (result.exit_code != 0) {
    detach(attachment.container_id, kNetwork);
    std::string said = result.err;
    while (!said.empty() && said.back() == '\n') said.pop_back();
    std::replace(said.begin(), said.end(), '\n', ' ');
    throw Error("pasta could not connect the container (exit " + std::to_string(result.exit_code) + ")" +
                    (said.empty() ? "" : ": " + said),
                0, "a published host port may be in use, or below 1024 for an ordinary user");
  }
  logger_->debug("pasta serves container {}", attachment.container_id.substr(0, 12));
  return endpoint;
}

void PastaDriver::detach(const std::string& container_id, const std::string&) {
  const fs::path path = pid_file(container_id);
  if (UniqueFd pasta = pasta_process(path)) {
    ::syscall(SYS_pidfd_send_signal, pasta.get(), SIGTERM, nullptr, 0);
  }
  ::unlink(path.c_str());
}

void PastaDriver::prune(const std::vector<std::string>& live_container_ids) {
  for (const auto& [id, address] : list_networks().front().containers) {
    if (std::find(live_container_ids.begin(), live_container_ids.end(), id) == live_container_ids.end()) {
      detach(id, kNetwork);
    }
  }
}

}  // namespace mcore::pasta
