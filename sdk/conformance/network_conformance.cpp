#include "mcore/conformance/network_conformance.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <set>
#include <thread>
#include <sstream>

#include "kit_internal.hpp"
#include "mcore/network_driver.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::conformance {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using detail::mentions;
using detail::throws_error;

namespace {

// The interfaces of the network namespace that `pid` is in ("self" for this process), by name.
std::set<std::string> interfaces_of(const std::string& pid) {
  std::istringstream lines(detail::read_file("/proc/" + pid + "/net/dev"));
  std::set<std::string> names;
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto start = line.find_first_not_of(' ');
    names.insert(line.substr(start, colon - start));
  }
  return names;
}

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : " ") + name;
  return "{" + out + "}";
}

// Moves the calling thread (the test's) into a new network namespace and a new mount namespace with a
// sysfs of that network namespace, and back on destruction. Whatever a driver creates there (links,
// addresses, routes, nftables tables) disappears with the namespace.
class PrivateNetwork {
 public:
  PrivateNetwork() {
    net_ = UniqueFd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    mnt_ = UniqueFd(::open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC));
    cwd_ = UniqueFd(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!net_ || !mnt_ || !cwd_) throw Error::from_errno("open this thread's namespaces");
    if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0)
      throw Error::from_errno("unshare the network and mount namespaces");
    entered_ = true;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      const Error error = Error::from_errno("make the private mount namespace's / private");
      leave();
      throw error;
    }
    // /sys/class/net shows the network namespace of whoever mounted sysfs.
    if (::mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      const Error error = Error::from_errno("mount a sysfs of the private network namespace");
      leave();
      throw error;
    }
  }
  ~PrivateNetwork() { leave(); }
  PrivateNetwork(const PrivateNetwork&) = delete;
  PrivateNetwork& operator=(const PrivateNetwork&) = delete;

 private:
  void leave() {
    if (!entered_) return;
    entered_ = false;
    if (::setns(mnt_.get(), CLONE_NEWNS) != 0)
      ADD_FAILURE() << "return to the mount namespace: " << std::strerror(errno);
    if (::setns(net_.get(), CLONE_NEWNET) != 0)
      ADD_FAILURE() << "return to the network namespace: " << std::strerror(errno);
    if (::fchdir(cwd_.get()) != 0)
      ADD_FAILURE() << "return to the working directory: " << std::strerror(errno);
  }
  UniqueFd net_, mnt_, cwd_;
  bool entered_ = false;
};

// A process holding a network namespace of its own: the container's.
class ContainerNamespace {
 public:
  ContainerNamespace() {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) throw Error::from_errno("pipe2");
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw Error::from_errno("fork");
    if (pid_ == 0) {
      ::close(ready[0]);
      if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
      (void)!::write(ready[1], "x", 1);
      for (;;) ::pause();
    }
    ::close(ready[1]);
    char byte;
    const bool ok = ::read(ready[0], &byte, 1) == 1;
    ::close(ready[0]);
    if (!ok) throw Error("the namespace holder failed to unshare its network namespace");
  }
  ~ContainerNamespace() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ContainerNamespace(const ContainerNamespace&) = delete;
  ContainerNamespace& operator=(const ContainerNamespace&) = delete;

  fs::path netns_path() const { return "/proc/" + std::to_string(pid_) + "/ns/net"; }
  // Its interfaces other than lo.
  std::set<std::string> interfaces() const {
    auto names = interfaces_of(std::to_string(pid_));
    names.erase("lo");
    return names;
  }

 private:
  pid_t pid_ = -1;
};

// Runs the ip(8) command; its exit code, or -1 when it is not installed.
int run_ip(const std::vector<std::string>& args) {
  const char* ip = nullptr;
  for (const char* candidate : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(candidate, X_OK) == 0) {
      ip = candidate;
      break;
    }
  }
  if (ip == nullptr) return -1;
  std::vector<std::string> argv{ip};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (auto& arg : argv) raw.push_back(arg.data());
  raw.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(ip, raw.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// A TCP socket listening on every address at a port the kernel chose.
UniqueFd listening_socket(std::uint16_t port, std::uint16_t* bound_port, int* error) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd.get(), 1) != 0) {
    *error = errno;
    return {};
  }
  socklen_t length = sizeof address;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length);
  *bound_port = ntohs(address.sin_port);
  *error = 0;
  return fd;
}

int local_port(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 || address.sin_family != AF_INET)
    return -1;
  return ntohs(address.sin_port);
}

std::vector<NetworkInfo> named(const std::vector<NetworkInfo>& networks, const std::string& name) {
  std::vector<NetworkInfo> out;
  std::copy_if(networks.begin(), networks.end(), std::back_inserter(out),
               [&](const auto& n) { return n.name == name; });
  return out;
}

}  // namespace

void PrintTo(const NetworkTarget& target, std::ostream* out) { *out << "network driver " << target.name; }

struct NetworkConformance::State {
  const NetworkTarget* target = nullptr;
  std::unique_ptr<PrivateNetwork> namespaces;
  std::unique_ptr<detail::DriverHarness> harness;
  std::shared_ptr<NetworkDriver> driver;
  std::set<std::string> links_at_start;  // of the private namespace, before the driver ran
  bool default_network_used = false;     // it may stay, with whatever it brought up
  std::vector<std::string> networks;     // removed at the end
  std::vector<std::pair<std::string, std::string>> attached;  // (container id, network), detached at the end
  std::vector<std::unique_ptr<ContainerNamespace>> containers;

  NetworkInfo create(const std::string& name, const std::string& subnet) {
    networks.push_back(name);
    return driver->create_network({name, subnet, "", {}});
  }
  bool listed(const std::string& name) const { return !named(driver->list_networks(), name).empty(); }
  ContainerNamespace& container() { return *containers.emplace_back(std::make_unique<ContainerNamespace>()); }
  NetworkAttachment attachment(const ContainerNamespace& ns, const std::string& network,
                               std::vector<PortMapping> ports = {}) const {
    NetworkAttachment out;
    out.container_id = detail::random_hex(64);
    out.container_name = "conformance-" + out.container_id.substr(0, 6);
    out.network = network;
    out.netns_path = ns.netns_path();
    out.ports = std::move(ports);
    return out;
  }
  Endpoint attach(const NetworkAttachment& attachment) {
    attached.emplace_back(attachment.container_id, attachment.network);
    return driver->attach(attachment);
  }
  std::set<std::string> host_links() const { return interfaces_of("self"); }
};

NetworkConformance::NetworkConformance() : state_(std::make_unique<State>()) {}
NetworkConformance::~NetworkConformance() = default;

void NetworkConformance::SetUp() {
  const NetworkTarget& target = GetParam();
  state_->target = &target;
  if (auto reason = detail::skip_reason(target.unavailable, true); !reason.empty()) GTEST_SKIP() << reason;
  state_->namespaces = std::make_unique<PrivateNetwork>();
  if (target.uplink) {
    // A bridge of the kit's (no dummy module needed); its route marks it as the way out.
    if (run_ip({"link", "add", "mcconfuplink", "type", "bridge"}) != 0 ||
        run_ip({"addr", "add", "192.0.2.1/24", "dev", "mcconfuplink"}) != 0 ||
        run_ip({"link", "set", "mcconfuplink", "up"}) != 0 ||
        run_ip({"route", "add", "default", "via", "192.0.2.254"}) != 0) {
      FAIL() << "the target asks for an uplink, and ip(8) could not make one";
    }
  }
  state_->links_at_start = state_->host_links();
  state_->harness = std::make_unique<detail::DriverHarness>("/var/tmp", target.name);
  nlohmann::json config =
      target.config ? target.config(state_->harness->scratch()) : nlohmann::json::object();
  state_->driver = detail::make_driver<NetworkDriver>(
      target.factory, state_->harness->context(config, "network"), "NetworkDriver");
}

void NetworkConformance::TearDown() {
  if (state_->driver) {
    for (const auto& [id, network] : state_->attached) {
      try {
        state_->driver->detach(id, network);
      } catch (const std::exception& error) {
        ADD_FAILURE() << "detach " << id << " at the end of the case: " << error.what();
      }
    }
    for (const auto& name : state_->networks) {
      try {
        state_->driver->remove_network(name);
      } catch (const std::exception& error) {
        ADD_FAILURE() << "remove_network " << name << " at the end of the case: " << error.what();
      }
    }
    if (!state_->default_network_used && !HasFailure()) {
      EXPECT_EQ(joined(state_->host_links()), joined(state_->links_at_start))
          << "links left behind after every network was removed";
    }
  }
  state_->driver.reset();
  state_->containers.clear();
  if (state_->harness) state_->harness->report_log_on_failure();
  state_->harness.reset();
  state_->namespaces.reset();
}

TEST_P(NetworkConformance, TeardownOfUnknownNamesAndIdsIsANoOp) {
  EXPECT_NO_THROW(state_->driver->remove_network("conf-never-created"));
  EXPECT_NO_THROW(state_->driver->remove_network("conf-never-created")) << "twice";
  EXPECT_NO_THROW(state_->driver->detach(detail::random_hex(64), "conf-never-created"));
  EXPECT_NO_THROW(state_->driver->prune({}));
  state_->create("conf-a", "10.213.1.0/24");
  EXPECT_NO_THROW(state_->driver->detach(detail::random_hex(64), "conf-a")) << "an id never attached";
  EXPECT_NO_THROW(state_->driver->prune({detail::random_hex(64)}));
  EXPECT_TRUE(state_->listed("conf-a")) << "prune removed a network";
}

TEST_P(NetworkConformance, CreateListAndRemoveRoundTrip) {
  const auto before = state_->host_links();
  const NetworkInfo info = state_->create("conf-a", "10.213.2.0/24");
  EXPECT_EQ(info.name, "conf-a");
  EXPECT_EQ(info.subnet, "10.213.2.0/24");
  EXPECT_EQ(info.gateway, "10.213.2.1") << "the gateway defaults to the subnet's first address";
  EXPECT_FALSE(info.driver.empty()) << "NetworkInfo::driver is empty";
  EXPECT_FALSE(info.id.empty()) << "NetworkInfo::id is empty";
  EXPECT_FALSE(info.is_default) << "a created network is not the default one";
  EXPECT_TRUE(info.containers.empty()) << "a new network has containers attached";
  const auto listed = named(state_->driver->list_networks(), "conf-a");
  ASSERT_EQ(listed.size(), 1u) << "list_networks shows conf-a " << listed.size() << " times";
  EXPECT_EQ(listed[0].subnet, info.subnet);
  EXPECT_EQ(listed[0].gateway, info.gateway);
  EXPECT_EQ(listed[0].id, info.id) << "the id must stay the same for the network's life";
  EXPECT_EQ(listed[0].created, info.created);
  const NetworkInfo other = state_->create("conf-b", "10.213.12.0/24");
  EXPECT_NE(other.id, info.id) << "two networks share an id";
  state_->driver->remove_network("conf-b");

  state_->driver->remove_network("conf-a");
  EXPECT_FALSE(state_->listed("conf-a")) << "listed after remove_network";
  EXPECT_EQ(joined(state_->host_links()), joined(before)) << "remove_network left links behind";
  EXPECT_NO_THROW(state_->driver->remove_network("conf-a")) << "a second remove_network must be a no-op";
}

TEST_P(NetworkConformance, CreateRefusesATakenNameAndKeepsTheNetwork) {
  state_->create("conf-a", "10.213.3.0/24");
  EXPECT_TRUE(throws_error([&] {
    state_->driver->create_network({"conf-a", "10.213.4.0/24", "", {}});
  })) << "a second network conf-a";
  const auto listed = named(state_->driver->list_networks(), "conf-a");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].subnet, "10.213.3.0/24") << "the refused create changed the network";
}

TEST_P(NetworkConformance, CreateRefusesAnOverlappingSubnetAndLeavesNothing) {
  state_->create("conf-a", "10.213.5.0/24");
  const auto links = state_->host_links();
  std::string message;
  EXPECT_TRUE(throws_error(
      [&] {
        state_->driver->create_network({"conf-b", "10.213.5.128/25", "", {}});
      },
      &message))
      << "a subnet inside conf-a's";
  EXPECT_TRUE(throws_error(
      [&] {
        state_->driver->create_network({"conf-c", "10.213.0.0/16", "", {}});
      },
      &message))
      << "a subnet around conf-a's";
  EXPECT_FALSE(state_->listed("conf-b"));
  EXPECT_FALSE(state_->listed("conf-c"));
  EXPECT_EQ(joined(state_->host_links()), joined(links)) << "a refused create left links";
}

TEST_P(NetworkConformance, CreateRefusesASubnetOverlappingAHostRoute) {
  // A route in the private namespace only, through a bridge of the kit's (no dummy module needed).
  if (run_ip({"link", "add", "mcconfroute", "type", "bridge"}) != 0 ||
      run_ip({"addr", "add", "10.213.6.1/24", "dev", "mcconfroute"}) != 0 ||
      run_ip({"link", "set", "mcconfroute", "up"}) != 0) {
    GTEST_SKIP() << "could not add a route with ip(8)";
  }
  state_->links_at_start = state_->host_links();
  EXPECT_TRUE(throws_error([&] {
    state_->driver->create_network({"conf-a", "10.213.6.0/24", "", {}});
  })) << "a subnet on a route of the host";
  EXPECT_FALSE(state_->listed("conf-a"));
}

TEST_P(NetworkConformance, CreateRefusesAMalformedSubnetAndLeavesNothing) {
  for (const char* subnet : {"10.213.300.0/24", "not-a-subnet", "10.213.7.0/33"}) {
    EXPECT_TRUE(throws_error([&] { state_->driver->create_network({"conf-a", subnet, "", {}}); })) << subnet;
    EXPECT_FALSE(state_->listed("conf-a")) << subnet;
  }
  EXPECT_EQ(joined(state_->host_links()), joined(state_->links_at_start));
}

TEST_P(NetworkConformance, CreatingTheDefaultNetworkAgainIsNoError) {
  const std::string name = GetParam().default_network;
  if (name.empty()) GTEST_SKIP() << "the target names no default network";
  state_->default_network_used = true;
  EXPECT_NO_THROW(state_->driver->create_network({name, "", "", {}}));
  EXPECT_NO_THROW(state_->driver->create_network({name, "", "", {}})) << "again";
  const auto listed = named(state_->driver->list_networks(), name);
  ASSERT_EQ(listed.size(), 1u) << "listed once";
  EXPECT_TRUE(listed[0].is_default) << "the default network's NetworkInfo::is_default is false";
}

TEST_P(NetworkConformance, AttachConnectsTheNamespaceAndDetachUndoesIt) {
  state_->create("conf-a", "10.213.8.0/24");
  const auto links = state_->host_links();
  ContainerNamespace& ns = state_->container();
  const NetworkAttachment attachment = state_->attachment(ns, "conf-a");
  const Endpoint endpoint = state_->attach(attachment);
  EXPECT_EQ(endpoint.network, "conf-a");
  EXPECT_TRUE(ns.interfaces().contains(endpoint.interface_name))
      << endpoint.interface_name << " is not in the container's namespace: " << joined(ns.interfaces());
  ASSERT_EQ(endpoint.addresses.size(), 1u);
  EXPECT_TRUE(endpoint.addresses[0].starts_with("10.213.8.") && endpoint.addresses[0].ends_with("/24"))
      << endpoint.addresses[0] << " is not in 10.213.8.0/24";
  EXPECT_NE(endpoint.addresses[0], "10.213.8.1/24") << "the gateway's address was leased";
  EXPECT_EQ(endpoint.gateway, "10.213.8.1");
  EXPECT_FALSE(endpoint.default_network) << "conf-a is not the default network";
  const auto attached = named(state_->driver->list_networks(), "conf-a");
  ASSERT_EQ(attached.size(), 1u);
  EXPECT_EQ(attached[0].containers.size(), 1u) << "NetworkInfo::containers does not list the attached container";
  if (auto found = attached[0].containers.find(attachment.container_id); found != attached[0].containers.end()) {
    EXPECT_EQ(found->second, endpoint.addresses[0]) << "NetworkInfo::containers gives another address";
  } else {
    ADD_FAILURE() << "NetworkInfo::containers lacks " << attachment.container_id;
  }

  EXPECT_TRUE(throws_error([&] { state_->driver->remove_network("conf-a"); })) << "removing a network in use";
  EXPECT_TRUE(state_->listed("conf-a")) << "the refused remove_network removed it";

  state_->driver->detach(attachment.container_id, "conf-a");
  EXPECT_TRUE(named(state_->driver->list_networks(), "conf-a")[0].containers.empty())
      << "NetworkInfo::containers lists a detached container";
  EXPECT_EQ(joined(ns.interfaces()), "{}") << "detach left the container's interface";
  EXPECT_EQ(joined(state_->host_links()), joined(links)) << "detach left links";
  EXPECT_NO_THROW(state_->driver->detach(attachment.container_id, "conf-a")) << "a second detach";
  EXPECT_NO_THROW(state_->driver->remove_network("conf-a")) << "after detach the network is free";
}

// What the engine calls at a container's exit: the namespace is gone, and the kernel's teardown of it
// takes the links; the driver gives back the rest.
TEST_P(NetworkConformance, ReleaseExitedAfterTheNamespaceDiedLeavesNothing) {
  state_->create("conf-a", "10.213.9.0/24");
  const auto links = state_->host_links();
  const NetworkAttachment attachment = state_->attachment(state_->container(), "conf-a");
  state_->attach(attachment);
  state_->containers.clear();  // the namespace's last process dies
  state_->driver->release_exited(attachment.container_id, "conf-a");
  EXPECT_TRUE(named(state_->driver->list_networks(), "conf-a")[0].containers.empty())
      << "NetworkInfo::containers lists a released container";
  // The kernel tears the namespace down on a workqueue: give it a few seconds.
  for (int tries = 0; tries < 500 && state_->host_links() != links; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(joined(state_->host_links()), joined(links)) << "links outlived the namespace and release_exited";
  EXPECT_NO_THROW(state_->driver->release_exited(attachment.container_id, "conf-a")) << "a second release";
  EXPECT_NO_THROW(state_->driver->remove_network("conf-a")) << "after release the network is free";
}

TEST_P(NetworkConformance, AFailedAttachLeavesNothing) {
  state_->create("conf-a", "10.213.9.0/24");
  const auto links = state_->host_links();
  std::uint16_t taken = 0;
  int error = 0;
  const UniqueFd holder = listening_socket(0, &taken, &error);
  ASSERT_TRUE(holder) << "listen: " << std::strerror(error);
  ContainerNamespace& ns = state_->container();
  PortMapping port;
  port.host_port = taken;
  port.container_port = 80;
  const NetworkAttachment attachment = state_->attachment(ns, "conf-a", {port});
  std::string message;
  EXPECT_TRUE(throws_error([&] { state_->attach(attachment); }, &message)) << "publishing a port in use";
  EXPECT_EQ(joined(ns.interfaces()), "{}") << "the failed attach left an interface in the container";
  EXPECT_EQ(joined(state_->host_links()), joined(links)) << "the failed attach left links";
  EXPECT_TRUE(throws_error([&] { state_->attach(state_->attachment(ns, "conf-never-created")); }))
      << "attaching to an unknown network";
  EXPECT_EQ(joined(ns.interfaces()), "{}");
  EXPECT_NO_THROW(state_->driver->remove_network("conf-a")) << "the failed attach kept a lease";
}

TEST_P(NetworkConformance, PublishedPortsAreHeldForTheContainer) {
  state_->create("conf-a", "10.213.10.0/24");
  ContainerNamespace& ns = state_->container();
  PortMapping port;
  port.container_port = 80;  // host port 0: the driver picks
  Endpoint endpoint = state_->attach(state_->attachment(ns, "conf-a", {port}));
  ASSERT_EQ(endpoint.ports.size(), 1u);
  const std::uint16_t chosen = endpoint.ports[0].host_port;
  EXPECT_NE(chosen, 0) << "the chosen host port is not reported";
  EXPECT_EQ(endpoint.ports[0].container_port, 80);
  // The engine holds held_sockets for as long as the container runs; a driver may instead hold the
  // port in a process of its own (pasta binds it itself). Either way nobody else may take it.
  if (!endpoint.held_sockets.empty()) {
    const bool held = std::any_of(endpoint.held_sockets.begin(), endpoint.held_sockets.end(),
                                  [&](const UniqueFd& fd) { return local_port(fd.get()) == chosen; });
    EXPECT_TRUE(held) << "no socket in held_sockets is bound to port " << chosen;
  }
  std::uint16_t ignored = 0;
  int error = 0;
  EXPECT_FALSE(listening_socket(chosen, &ignored, &error)) << "another process could take port " << chosen;
  // Once detached (and the engine closed held_sockets), the port is free to publish again.
  state_->driver->detach(state_->attached.back().first, "conf-a");
  endpoint.held_sockets.clear();
  EXPECT_TRUE(listening_socket(chosen, &ignored, &error))
      << "port " << chosen << " is still taken after detach: " << std::strerror(error);
}

TEST_P(NetworkConformance, PruneRemovesOnlyWhatIsNotLive) {
  state_->create("conf-a", "10.213.11.0/24");
  const auto links = state_->host_links();
  ContainerNamespace& live_ns = state_->container();
  ContainerNamespace& dead_ns = state_->container();
  const NetworkAttachment live = state_->attachment(live_ns, "conf-a");
  const NetworkAttachment dead = state_->attachment(dead_ns, "conf-a");
  state_->attach(live);
  state_->attach(dead);
  state_->driver->prune({live.container_id});
  EXPECT_EQ(joined(dead_ns.interfaces()), "{}") << "prune kept a container that is not live";
  EXPECT_FALSE(live_ns.interfaces().empty()) << "prune removed a live container's interface";
  EXPECT_TRUE(throws_error([&] { state_->driver->remove_network("conf-a"); }))
      << "the live container still uses it";
  state_->driver->prune({});
  EXPECT_EQ(joined(live_ns.interfaces()), "{}");
  EXPECT_EQ(joined(state_->host_links()), joined(links)) << "prune left links";
  EXPECT_NO_THROW(state_->driver->remove_network("conf-a")) << "prune kept a lease";
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(NetworkConformance);

namespace detail {
int link_network_conformance() { return 0; }
}  // namespace detail

}  // namespace mcore::conformance
