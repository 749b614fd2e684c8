#include "engine/start/container_etc.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "engine/start/container_etc_files.hpp"
#include "engine/util/file_util.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

namespace {

// True when the file holds exactly `content`. Reads no more than that: the container may have filled
// its /etc/hosts, and this runs for every peer that comes or goes.
bool holds(int fd, const std::string& content) {
  struct stat info {};
  if (::fstat(fd, &info) != 0 || static_cast<std::size_t>(info.st_size) != content.size()) return false;
  std::string current(content.size(), '\0');
  return ::pread(fd, current.data(), current.size(), 0) == static_cast<ssize_t>(current.size()) && current == content;
}

// Rewritten in place, never renamed over: the container's bind mount holds this inode. A command that
// reads /etc/hosts while a peer comes or goes must never find it empty: an unchanged file is not
// written at all, and new content goes over the old before the file is cut to its length (no O_TRUNC).
void write_in_place(const fs::path& path, const std::string& content) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) throw Error::from_errno("write " + path.string());
  if (holds(fd.get(), content)) return;
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::pwrite(fd.get(), content.data() + done, content.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("write " + path.string());
    }
    done += static_cast<std::size_t>(n);
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(content.size())) != 0) throw Error::from_errno("truncate " + path.string());
}

// A missing file is the common case (most hosts have no systemd-resolved), so it is no exception:
// the first throw in a process costs ~0.1 ms of unwinder set-up on the start path.
std::string read_or_empty(const fs::path& path) {
  try {
    return read_file_if_exists(path).value_or("");
  } catch (const Error&) {
    return "";
  }
}

// On a systemd-resolved host /etc/resolv.conf names only its 127.0.0.53 stub; the real upstream
// servers are in this file, which is what a container with its own namespace can use.
std::string host_resolv_conf(bool own_network_namespace) {
  if (own_network_namespace) {
    const std::string upstream = read_or_empty("/run/systemd/resolve/resolv.conf");
    if (!upstream.empty() && read_or_empty("/etc/resolv.conf").find("127.0.0.53") != std::string::npos) return upstream;
  }
  return read_or_empty("/etc/resolv.conf");
}

// Peers resolve each other by name on every network but the driver's default one (Docker's rule).
bool peers_resolve_by_name(const ContainerRecord& record) {
  return record.endpoint && !record.endpoint->default_network;
}

std::string address_of(const NetworkEndpoint& endpoint) {
  return endpoint.address.substr(0, endpoint.address.find('/'));
}

HostEntry own_entry(const ContainerRecord& record) {
  HostEntry own;
  if (!record.endpoint) return own;
  own.address = address_of(*record.endpoint);
  own.names = {record.spec.hostname};
  if (record.name != record.spec.hostname) own.names.push_back(record.name);
  for (const auto& alias : record.spec.network_aliases) {
    if (std::find(own.names.begin(), own.names.end(), alias) == own.names.end()) own.names.push_back(alias);
  }
  return own;
}

std::string hosts_text(const ContainerRecord& record, const std::vector<ContainerRecord>& members) {
  const ContainerSpec& spec = record.spec;
  std::vector<HostEntry> extra;
  const std::string gateway = record.endpoint ? record.endpoint->gateway : "";
  for (const auto& value : spec.extra_hosts) {
    // host-gateway lines wait for the network's gateway: written once the container is attached.
    const bool waits_for_gateway = gateway.empty() && spec.network == NetworkMode::network &&
                                   value.ends_with("host-gateway");
    if (!waits_for_gateway) extra.push_back(parse_add_host(value, gateway));
  }
  if (spec.network == NetworkMode::host) {
    // The host's own file, as Docker gives a host-network container, with the --add-host lines.
    std::string text = read_or_empty("/etc/hosts");
    if (!text.empty() && text.back() != '\n') text += '\n';
    return text + hosts_lines(extra);
  }
  std::vector<HostEntry> peers;
  for (const auto& member : members) {
    if (member.id != record.id) peers.push_back(own_entry(member));
  }
  return hosts_file(extra, own_entry(record), peers);
}

// Running containers attached to user network `network`, as their records say.
std::vector<ContainerRecord> members_of(const ContainerStore& store, const std::string& network,
                                        const std::string& leaving = "") {
  std::vector<ContainerRecord> members;
  for (auto& record : store.list().records) {
    if (record.id != leaving && record.state == ContainerState::running && record.endpoint && record.endpoint->network == network) {
      members.push_back(std::move(record));
    }
  }
  return members;
}

FileLock hosts_lock(Engine& engine) { return FileLock(engine.config().state_root / "hosts.lock"); }

}  // namespace

EtcFilePaths etc_file_paths(const ContainerStore& store, const std::string& id) {
  const fs::path dir = store.container_dir(id);
  return {dir / "hosts", dir / "resolv.conf", dir / "hostname"};
}

fs::path etc_mount_point_layer(const ContainerStore& store, const std::string& id) {
  const fs::path layer = store.container_dir(id) / "mount-points";
  if (::access(layer.c_str(), F_OK) == 0) return layer;
  // Built beside and renamed into place: a crash never leaves half a layer to be stacked.
  const fs::path staging = store.container_dir(id) / ".mount-points";
  std::error_code error;
  fs::remove_all(staging, error);
  // create_directory, not create_directories: the container's own directory must already be there (a
  // container removed meanwhile gets no directory back).
  if (!fs::create_directory(staging, error) || !fs::create_directory(staging / "etc", error)) {
    throw Error("create " + (staging / "etc").string(), error ? error.value() : EEXIST);
  }
  for (const char* name : {"hosts", "hostname", "resolv.conf"}) write_in_place(staging / "etc" / name, "");
  // The layer's etc/ gives the container's /etc its mode: whatever mcore's umask, it is the usual one.
  fs::permissions(staging / "etc", fs::perms(0755), error);
  if (::rename(staging.c_str(), layer.c_str()) != 0) throw Error::from_errno("rename " + staging.string());
  return layer;
}

void write_etc_files(const ContainerStore& store, const ContainerSpec& spec) {
  const EtcFilePaths paths = etc_file_paths(store, spec.id);
  const bool own_namespace = spec.network != NetworkMode::host;
  write_in_place(paths.hostname, spec.hostname + "\n");
  write_in_place(paths.resolv_conf, resolv_conf(host_resolv_conf(own_namespace), own_namespace, spec.dns,
                                                spec.dns_search, spec.dns_options));
  ContainerRecord unattached;
  unattached.id = spec.id;
  unattached.name = spec.name;
  unattached.spec = spec;
  write_in_place(paths.hosts, hosts_text(unattached, {}));
}

void write_hosts(Engine& engine, const ContainerStore& store, const ContainerRecord& record) {
  if (!peers_resolve_by_name(record)) {
    write_in_place(etc_file_paths(store, record.id).hosts, hosts_text(record, {}));
    return;
  }
  FileLock held = hosts_lock(engine);
  write_in_place(etc_file_paths(store, record.id).hosts,
                 hosts_text(record, members_of(store, record.spec.network_name)));
}

void refresh_network_hosts(Engine& engine, const ContainerStore& store, const NetworkEndpoint& endpoint,
                           const std::string& leaving) {
  if (endpoint.network.empty() || endpoint.default_network) return;
  const std::string& network = endpoint.network;
  FileLock held = hosts_lock(engine);
  const auto members = members_of(store, network, leaving);
  for (const auto& member : members) {
    try {
      write_in_place(etc_file_paths(store, member.id).hosts, hosts_text(member, members));
    } catch (const Error& error) {
      engine.logger()->warn("container {}: {}", member.id.substr(0, 12), error.what());
    }
  }
}

}  // namespace mcore::engine
