#include "pasta_driver.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <system_error>

#include "ipv4.hpp"
#include "links.hpp"
#include "mcore/child_process.hpp"
#include "mcore/config_section.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"
#include "mcore/holder_process.hpp"
#include "mcore/unique_fd.hpp"
#include "namespace_bind.hpp"
#include "new_network.hpp"

namespace mcore::pasta {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kNetwork = "pasta";
// The user networks' links carry only traffic between containers.
constexpr int kBridgeMtu = 1500;

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

// Whether the process `pidfd` pins ended within `timeout`.
bool ended_within(int pidfd, std::chrono::milliseconds timeout) {
  pollfd ended{pidfd, POLLIN, 0};
  int ready;
  while ((ready = ::poll(&ended, 1, static_cast<int>(timeout.count()))) < 0 && errno == EINTR) {
  }
  return ready == 1;
}

// The running pasta a pid file names, as a pidfd; none when it is gone or the pid is another program's.
UniqueFd pasta_process(const fs::path& pid_file) {
  auto pasta = find_recorded_process(pid_file, [](const std::string& name) {
    return name.starts_with("pasta") || name.starts_with("passt");
  });
  return pasta ? std::move(pasta->pidfd) : UniqueFd();
}

}  // namespace

PastaDriver::PastaDriver(const HostContext& context)
    : logger_(context.logger ? context.logger->clone("pasta") : std::make_shared<spdlog::logger>("pasta")),
      state_dir_(context.state_root / "network" / "pasta"),
      store_(context.data_root / "network" / "pasta"),
      bridges_(state_dir_) {
  ConfigSection config(context.config, context.config_path.empty() ? "network" : context.config_path);
  if (auto binary = config.get_string("binary")) binary_ = *binary;
  config.reject_unknown_keys();
}

fs::path PastaDriver::pid_file(const std::string& container_id) const {
  return state_dir_ / (container_id + ".pid");
}

bridge::NetworkRecord PastaDriver::find(const std::string& name) const {
  for (auto& network : store_.read()) {
    if (network.name == name) return network;
  }
  throw Error("network " + name + " not found", 0,
              "create it with `mcore network create " + name + "`, or see `mcore network ls`");
}

bridge::LeaseFile PastaDriver::leases(const bridge::NetworkRecord& network) const {
  return bridge::LeaseFile(state_dir_ / "networks" / network.id, bridge::parse_subnet(network.subnet),
                           bridge::parse_ipv4(network.gateway));
}

NetworkInfo PastaDriver::describe(const bridge::NetworkRecord& network) const {
  NetworkInfo info;
  info.name = network.name;
  info.id = network.id;
  info.driver = kNetwork;
  info.subnet = network.subnet;
  info.gateway = network.gateway;
  info.created = network.created;
  info.subnet_note = network.subnet_note;
  info.details = {{"binary", binary_}, {"bridge", network.bridge}, {"mtu", kBridgeMtu}};
  const std::string prefix = "/" + std::to_string(bridge::parse_subnet(network.subnet).prefix);
  for (const auto& [address, container] : leases(network).leases()) {
    info.containers[container] = bridge::format_ipv4(address) + prefix;
  }
  return info;
}

NetworkInfo PastaDriver::create_network(const NetworkSpec& spec) {
  if (spec.name == kNetwork && spec.subnet.empty() && spec.gateway.empty()) return list_networks().front();
  bridge::check_network_name(spec.name);
  if (spec.name == kNetwork) {
    throw Error("network pasta is the pasta driver's default network and takes no subnet", 0,
                "choose another name for a network with a subnet of its own");
  }
  if (!spec.options.empty()) {
    throw Error("the pasta driver has no option \"" + spec.options.begin()->first + "\"", 0,
                "it takes --subnet and --gateway only");
  }
  bridge::NetworkRecord record;
  {
    auto held = store_.lock();
    auto networks = store_.read();
    for (const auto& network : networks) {
      if (network.name == spec.name) {
        throw Error("network " + spec.name + " already exists", 0, "choose another name, or remove it first");
      }
    }
    record.name = spec.name;
    record.id = bridge::random_network_id();
    record.bridge = "br-mc" + record.id.substr(0, 10);
    record.created = bridge::now_rfc3339();
    bridge::assign_subnet(record, spec.subnet, spec.gateway, networks);
    networks.push_back(record);
    store_.write(networks);
  }
  return describe(record);
}

void PastaDriver::remove_network(const std::string& name) {
  if (name == kNetwork) {
    throw Error("the pasta network cannot be removed: it is the pasta driver's default network", 0,
                "leave it; it holds nothing when no container uses it");
  }
  auto held = store_.lock();
  auto networks = store_.read();
  auto found = std::find_if(networks.begin(), networks.end(), [&](const auto& n) { return n.name == name; });
  if (found == networks.end()) return;
  const auto leased = leases(*found).leases();
  if (!leased.empty()) {
    std::string users;
    for (const auto& [address, container] : leased)
      users += (users.empty() ? "" : ", ") + container.substr(0, 12);
    throw Error(
        "network " + name + " is in use by " + std::to_string(leased.size()) + " container(s): " + users, 0,
        "stop and remove them first (mcore rm -f ...)");
  }
  if (UniqueFd namespace_fd = bridges_.open_existing()) {
    const std::string link = found->bridge;
    bridge::in_network_namespace(namespace_fd.get(), [&link] { bridge::delete_link(link); });
  }
  std::error_code error;
  fs::remove_all(state_dir_ / "networks" / found->id, error);
  networks.erase(found);
  store_.write(networks);
  if (networks.empty()) bridges_.stop();
}

std::vector<NetworkInfo> PastaDriver::list_networks() const {
  std::vector<NetworkInfo> infos;
  NetworkInfo info;
  info.name = kNetwork;
  info.id = kNetwork;
  info.driver = kNetwork;
  info.is_default = true;
  info.details = {{"binary", binary_}};
  infos.push_back(info);
  for (const auto& network : store_.read()) infos.push_back(describe(network));
  // Every container has a pasta; the default network's are those no user network holds.
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(state_dir_, ignored)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".pid") || name == "bridges.pid") continue;
    const std::string id = name.substr(0, name.size() - 4);
    const bool on_user_network = std::any_of(
        infos.begin() + 1, infos.end(), [&id](const auto& network) { return network.containers.count(id); });
    if (!on_user_network) infos.front().containers[id] = "";
  }
  return infos;
}

Endpoint PastaDriver::attach(const NetworkAttachment& attachment) {
  std::optional<bridge::NetworkRecord> network;
  if (attachment.network != kNetwork) network = find(attachment.network);
  Endpoint endpoint = start_pasta(attachment);
  if (network) {
    try {
      join_bridge(*network, attachment, endpoint);
    } catch (...) {
      stop_pasta(attachment.container_id);
      throw;
    }
  }
  return endpoint;
}

void PastaDriver::join_bridge(const bridge::NetworkRecord& network, const NetworkAttachment& attachment,
                              Endpoint& endpoint) {
  const UniqueFd namespace_fd = bridges_.open_or_create();
  UniqueFd container(::open(attachment.netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!container)
    throw Error::from_errno("open the container's network namespace " + attachment.netns_path.string());
  const bridge::Ipv4Subnet subnet = bridge::parse_subnet(network.subnet);
  const std::string prefix = "/" + std::to_string(subnet.prefix);
  bridge::LeaseFile addresses = leases(network);
  const std::uint32_t address = addresses.lease(attachment.container_id);
  endpoint.network = network.name;
  endpoint.default_network = false;
  endpoint.interface_name = "eth1";
  endpoint.mac_address = bridge::container_mac(address);
  endpoint.addresses = {bridge::format_ipv4(address) + prefix};
  // The network's gateway, as Docker reports it: the bridge's address. There is no default route
  // through it on eth1: traffic beyond the subnet goes through eth0 and pasta.
  endpoint.gateway = network.gateway;
  endpoint.mtu = kBridgeMtu;
  const bridge::VethSpec veth{bridge::container_veth_name(attachment.container_id),
                              network.bridge,
                              container.get(),
                              endpoint.addresses.front(),
                              "",
                              "eth1",
                              endpoint.mac_address,
                              kBridgeMtu};
  try {
    bridge::in_network_namespace(namespace_fd.get(), [&] {
      // A bridge namespace made again (after the user's namespace was) has lost the bridges.
      bridge::ensure_bridge({network.bridge, network.gateway + prefix, kBridgeMtu});
      bridge::add_container_veth(veth);
    });
  } catch (...) {
    addresses.release(attachment.container_id);
    throw;
  }
}

Endpoint PastaDriver::start_pasta(const NetworkAttachment& attachment) {
  std::error_code error;
  fs::create_directories(state_dir_, error);
  if (error) throw Error("create " + state_dir_.string(), error.value());
  const fs::path pid_path = pid_file(attachment.container_id);
  const NamespaceBind netns(attachment.netns_path, state_dir_ / (attachment.container_id + ".netns"));

  Endpoint endpoint;
  endpoint.network = kNetwork;
  endpoint.default_network = true;
  endpoint.interface_name = "eth0";
  std::vector<std::string> argv = {
      binary_, "--config-net", "--quiet", "--netns", netns.path().string(), "--ns-ifname", "eth0", "--pid",
      pid_path.string(), "--no-map-gw",
      // Root of the user's namespace only; as nobody it could not open the namespace.
      "--runas", "0:0",
      // The host's loopback stays out of reach from the container's.
      "-T", "none", "-U", "none"};
  if (netns.bound()) argv.push_back("--no-netns-quit");
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
    stop_pasta(attachment.container_id);
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

void PastaDriver::stop_pasta(const std::string& container_id) {
  const fs::path path = pid_file(container_id);
  if (UniqueFd pasta = pasta_process(path)) {
    // Waited for: once this returns, the published ports are free to publish again and the tap in
    // the container is gone.
    ::syscall(SYS_pidfd_send_signal, pasta.get(), SIGTERM, nullptr, 0);
    if (!ended_within(pasta.get(), 2s)) {
      ::syscall(SYS_pidfd_send_signal, pasta.get(), SIGKILL, nullptr, 0);
      ended_within(pasta.get(), 2s);
    }
  }
  ::unlink(path.c_str());
}

void PastaDriver::detach(const std::string& container_id, const std::string& network) {
  if (network != kNetwork) {
    if (UniqueFd namespace_fd = bridges_.open_existing()) {
      const std::string link = bridge::container_veth_name(container_id);
      bridge::in_network_namespace(namespace_fd.get(), [&link] { bridge::delete_link(link); });
    }
  }
  release_exited(container_id, network);
}

void PastaDriver::release_exited(const std::string& container_id, const std::string& network) {
  stop_pasta(container_id);
  if (network == kNetwork) return;
  for (const auto& record : store_.read()) {
    if (record.name == network) leases(record).release(container_id);
  }
}

void PastaDriver::prune(const std::vector<std::string>& live) {
  const auto is_live = [&](const std::string& id) {
    return std::find(live.begin(), live.end(), id) != live.end();
  };
  store_.remove_unfinished_writes();
  const UniqueFd namespace_fd = bridges_.open_existing();
  for (const auto& network : store_.read()) {
    for (const auto& id : leases(network).reclaim(live)) {
      if (namespace_fd) {
        const std::string link = bridge::container_veth_name(id);
        bridge::in_network_namespace(namespace_fd.get(), [&link] { bridge::delete_link(link); });
      }
      logger_->info("released the address of container {} on {}", id.substr(0, 12), network.name);
    }
  }
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(state_dir_, ignored)) {
    const std::string name = entry.path().filename().string();
    // A bind a command killed while its pasta started left behind.
    if (name.ends_with(".netns") && !is_live(name.substr(0, name.size() - 6)))
      remove_namespace_bind(entry.path());
    if (!name.ends_with(".pid") || name == "bridges.pid") continue;
    const std::string id = name.substr(0, name.size() - 4);
    if (!is_live(id)) stop_pasta(id);
  }
}

}  // namespace mcore::pasta
