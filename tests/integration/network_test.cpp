// Bridge networking through the mcore binary: addresses, routes and /etc files inside, names on user
// networks, isolation between networks, published TCP and UDP ports, conflicts, parallel starts, bad
// input, and cleanup after rm and after a crash. Traffic goes only to loopback and to addresses inside
// the namespaces these tests create; nothing leaves the machine.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "oci_image_builder.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// One request over TCP to 127.0.0.1-style addresses on the host; the whole answer, "" when it fails.
std::string tcp_request(const std::string& address, int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &to.sin_addr);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

// A busybox shell loop fetching `url` until it answers (the server may still be starting), at most ~5 s.
std::string fetch_script(const std::string& url) {
  return "for i in $(seq 25); do wget -q -O - " + url + " && exit 0; sleep 0.2; done; exit 1";
}

std::string http_get(const std::string& address, int port, const std::string& path) {
  return tcp_request(address, port, "GET " + path + " HTTP/1.0\r\n\r\n");
}

// One datagram to `address`:`port`; the reply, "" when none comes within 3 s.
std::string udp_exchange(const std::string& address, int port, const std::string& message) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  timeval timeout{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &to.sin_addr);
  ::sendto(fd, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  char buffer[512];
  ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
  ::close(fd);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
}

// A port nothing on the host listens on right now (the kernel's pick, released at once).
int free_port(int type = SOCK_STREAM) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool has_link_named(const std::string& prefix) {
  for (const auto& entry : fs::directory_iterator("/sys/class/net")) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) return true;
  }
  return false;
}

class NetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  CommandResult mcore(const std::vector<std::string>& args) { return sandbox_->mcore(args); }

  // A name lookup that /etc/hosts cannot answer goes to the container's nameserver: point it at the
  // container's own loopback, where nothing answers, so that no query ever leaves the machine.
  static void add_local_dns(std::vector<std::string>& args, const std::vector<std::string>& flags) {
    if (std::find(flags.begin(), flags.end(), "--dns") == flags.end()) args.insert(args.end(), {"--dns", "127.0.0.1"});
    args.insert(args.end(), flags.begin(), flags.end());
  }

  // `mcore run -d` on `network` of a busybox script; returns the id.
  std::string detached(const std::string& network, const std::vector<std::string>& flags, const std::string& script) {
    std::vector<std::string> args{"run", "-d", "--network", network};
    add_local_dns(args, flags);
    args.insert(args.end(), {"--rootfs", shared_probe_rootfs().string(), "sh", "-c", script});
    auto result = mcore(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return trimmed(result.out);
  }

  // `mcore run --rm` on `network` of a busybox script.
  CommandResult run_script(const std::string& network, const std::string& script,
                           const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args{"run", "--rm", "--network", network};
    add_local_dns(args, flags);
    args.insert(args.end(), {"--rootfs", shared_probe_rootfs().string(), "sh", "-c", script});
    return mcore(args);
  }

  nlohmann::json inspect(const std::string& what, const std::string& type = "container") {
    auto result = type == "network" ? mcore({"network", "inspect", what}) : mcore({"inspect", "--type", type, what});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    auto json = nlohmann::json::parse(result.out, nullptr, false);
    return json.is_array() && !json.empty() ? json[0] : nlohmann::json::object();
  }

  std::string address_of(const std::string& container) {
    return inspect(container)["NetworkSettings"].value("IPAddress", "");
  }

  std::string gateway_of(const std::string& network) {
    return inspect(network, "network")["IPAM"]["Config"][0].value("Gateway", "");
  }

  void create_network(const std::string& name, const std::string& subnet = "") {
    std::vector<std::string> args{"network", "create"};
    if (!subnet.empty()) args.insert(args.end(), {"--subnet", subnet});
    args.push_back(name);
    auto result = mcore(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  // Leases, links and rules the sandbox's mcore holds for containers.
  std::string leases_text() const {
    std::string all;
    const fs::path dir = sandbox_->state_root() / "network" / "bridge" / "networks";
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) all += read_text(entry.path() / "leases.json");
    return all;
  }
  std::string container_rules() const {
    auto listed = run_command({"/usr/sbin/nft", "list", "table", "ip", sandbox_->firewall_table()}).out;
    return listed.find("ctr:") == std::string::npos ? "" : listed;
  }
  // SIGKILL to the container's supervisor (the init's parent), as a crash would; waits until its veth
  // went with the init.
  void kill_supervisor(const std::string& id) {
    const std::string pid = std::to_string(inspect(id)["State"].value("Pid", 0));
    std::string stat = read_text("/proc/" + pid + "/stat");
    const pid_t supervisor = std::stoi(stat.substr(stat.rfind(')') + 4));
    ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
    for (int i = 0; i < 50 && has_link_named("mcv" + id.substr(0, 12)); ++i) std::this_thread::sleep_for(100ms);
  }

  // What 127.0.0.1:`port` serves as /index.html, waiting up to 5 s for a server to come up.
  std::string served_on(int port) {
    std::string answer;
    for (int i = 0; i < 50 && answer.empty(); ++i, std::this_thread::sleep_for(100ms)) {
      answer = http_get("127.0.0.1", port, "/index.html");
    }
    return answer;
  }

  void expect_nothing_left() {
    EXPECT_EQ(leases_text().find(':'), std::string::npos) << "leases left: " << leases_text();
    // A veth pair goes with its container's network namespace, which the kernel tears down on a
    // workqueue just after the container's exit (NetworkDriver::release_exited): give it 2 s.
    for (int i = 0; i < 200 && has_link_named("mcv"); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_FALSE(has_link_named("mcv")) << "a container veth was left";
    EXPECT_EQ(container_rules(), "") << "port rules were left";
  }

  std::unique_ptr<McoreSandbox> sandbox_;
};

// net.ipv4.ip_forward on for one test and back to its old value after: isolation between networks and
// hairpin traffic are forwarded traffic.
class Forwarding {
 public:
  Forwarding() : old_(read_text("/proc/sys/net/ipv4/ip_forward")) { std::ofstream("/proc/sys/net/ipv4/ip_forward") << "1"; }
  ~Forwarding() { std::ofstream("/proc/sys/net/ipv4/ip_forward") << old_; }

 private:
  std::string old_;
};

TEST_F(NetworkTest, TheContainerGetsAnAddressAGatewayAndItsEtcFiles) {
  const std::string gateway = gateway_of("bridge");
  ASSERT_FALSE(gateway.empty());
  auto result = run_script("bridge",
                           "ip -4 addr show eth0; ip route; ping -c 1 -W 2 " + gateway +
                               " >/dev/null && echo gateway-answers; cat /etc/hostname /etc/hosts /etc/resolv.conf",
                           {"--hostname", "box", "--add-host", "db:192.0.2.40", "--dns", "192.0.2.53"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("inet " + gateway.substr(0, gateway.rfind('.'))), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("default via " + gateway + " dev eth0"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("gateway-answers"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("box\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("127.0.0.1\tlocalhost"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("192.0.2.40\tdb"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\tbox "), std::string::npos) << "its own address names it:\n" << result.out;
  EXPECT_NE(result.out.find("nameserver 192.0.2.53"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("nameserver 127."), std::string::npos) << result.out;
  expect_nothing_left();
}

TEST_F(NetworkTest, TheDefaultSubnetAvoidsHostRoutesAndInfoSaysSo) {
  // A host route over Docker's first pool, on an empty bridge of the test's own (no traffic).
  const std::string dummy = "mctd" + std::to_string(::getpid() % 100000);
  ASSERT_EQ(run_command({"/usr/sbin/ip", "link", "add", dummy, "type", "bridge"}).exit_code, 0);
  struct Remove {
    std::string link;
    ~Remove() { run_command({"/usr/sbin/ip", "link", "delete", link}); }
  } remove{dummy};
  ASSERT_EQ(run_command({"/usr/sbin/ip", "addr", "add", "172.17.255.254/16", "dev", dummy}).exit_code, 0);
  ASSERT_EQ(run_command({"/usr/sbin/ip", "link", "set", dummy, "up"}).exit_code, 0);
  auto info = mcore({"info", "--format", "json"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const auto network = nlohmann::json::parse(info.out)["default_network"];
  EXPECT_NE(network.value("subnet", ""), "172.17.0.0/16") << network.dump();
  EXPECT_NE(network.value("subnet_note", "").find("172.17.0.0/16 overlaps the host route to 172.17.0.0/16"),
            std::string::npos)
      << network.dump();
  auto text = mcore({"info"});
  EXPECT_NE(text.out.find("Subnet chosen because:"), std::string::npos) << text.out;
}

TEST_F(NetworkTest, InspectAndPsShowTheAddressAndPortsWhileItRuns) {
  const int port = free_port();
  const std::string id = detached("bridge", {"-p", "127.0.0.1:" + std::to_string(port) + ":80", "-p", "8080"}, "sleep 30");
  auto settings = inspect(id)["NetworkSettings"];
  const std::string address = settings.value("IPAddress", "");
  EXPECT_FALSE(address.empty()) << settings.dump();
  EXPECT_EQ(settings["Networks"]["bridge"].value("IPAddress", ""), address);
  auto mac = mcore({"exec", id, "cat", "/sys/class/net/eth0/address"});
  EXPECT_EQ(mac.out, settings.value("MacAddress", "?") + "\n");
  EXPECT_EQ(settings["Ports"]["80/tcp"][0].value("HostPort", ""), std::to_string(port)) << settings.dump();
  const std::string chosen = settings["Ports"]["8080/tcp"][0].value("HostPort", "");
  EXPECT_NE(chosen, "") << "-p 8080 got no host port: " << settings.dump();
  EXPECT_NE(chosen, "0");
  auto ps = mcore({"ps"});
  EXPECT_NE(ps.out.find("127.0.0.1:" + std::to_string(port) + "->80/tcp"), std::string::npos) << ps.out;
  EXPECT_NE(ps.out.find("0.0.0.0:" + chosen + "->8080/tcp"), std::string::npos) << ps.out;
  EXPECT_EQ(mcore({"rm", "-f", id}).exit_code, 0);
  expect_nothing_left();
}

TEST_F(NetworkTest, ContainersOnAUserNetworkReachEachOtherByName) {
  create_network("front", "10.233.40.0/24");
  const std::string web = detached("front", {"--name", "web"}, "echo hello-from-web > /tmp/index.html; httpd -f -p 80 -h /tmp");
  auto result = run_script("front", fetch_script("http://web/index.html"), {"--name", "client"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "hello-from-web\n");
  // The server learns its peers too, and forgets them when they go.
  const std::string peer = detached("front", {"--name", "peer"}, "sleep 30");
  auto hosts = mcore({"exec", "web", "cat", "/etc/hosts"});
  EXPECT_NE(hosts.out.find(address_of(peer) + "\t"), std::string::npos) << hosts.out;
  EXPECT_NE(hosts.out.find(" peer"), std::string::npos) << hosts.out;
  EXPECT_EQ(mcore({"rm", "-f", peer}).exit_code, 0);
  hosts = mcore({"exec", "web", "cat", "/etc/hosts"});
  EXPECT_EQ(hosts.out.find(" peer"), std::string::npos) << hosts.out;
  // The default network does not resolve names, as in Docker.
  result = run_script("bridge", "wget -q -O - http://web/index.html");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("bad address 'web'"), std::string::npos) << result.err;
  EXPECT_EQ(mcore({"rm", "-f", web}).exit_code, 0);
  expect_nothing_left();
}

TEST_F(NetworkTest, NetworksCannotReachEachOtherButThroughPublishedPorts) {
  Forwarding forwarding;
  create_network("front", "10.233.41.0/24");
  create_network("back", "10.233.42.0/24");
  const int port = free_port();
  const std::string web = detached("front", {"--name", "web", "-p", std::to_string(port) + ":80"},
                                   "echo front-page > /tmp/index.html; httpd -f -p 80 -h /tmp");
  const std::string direct = "http://" + address_of(web) + "/index.html";
  // From the same network: directly. From the other: not directly, but through the published port on
  // the host's address on that network, as from anywhere else.
  auto same = run_script("front", fetch_script(direct));
  EXPECT_EQ(same.out, "front-page\n") << same.err;
  auto other = run_script("back", "timeout 3 wget -q -O - " + direct + "; echo direct=$?; wget -q -O - http://" +
                                      gateway_of("back") + ":" + std::to_string(port) + "/index.html");
  EXPECT_NE(other.out.find("direct=143"), std::string::npos) << "the other network reached it:\n" << other.out;
  EXPECT_NE(other.out.find("front-page"), std::string::npos) << "the published port failed:\n" << other.out << other.err;
  // Hairpin: the server's own network reaches it through the host's address and the published port.
  auto hairpin = run_script("front", "wget -q -O - http://" + gateway_of("front") + ":" + std::to_string(port) + "/index.html");
  EXPECT_EQ(hairpin.out, "front-page\n") << hairpin.err;
}

TEST_F(NetworkTest, PublishedTcpPortsAnswerOnLoopbackAndTheBridgeAddress) {
  const int loopback_port = free_port();
  const int any_port = free_port();
  const std::string id = detached("bridge",
                                  {"-p", "127.0.0.1:" + std::to_string(loopback_port) + ":80", "-p",
                                   std::to_string(any_port) + ":80", "-p", "80"},
                                  "echo served > /tmp/index.html; httpd -f -p 80 -h /tmp");
  const std::string chosen = inspect(id)["NetworkSettings"]["Ports"]["80/tcp"][2].value("HostPort", "");
  std::string answer;
  for (int i = 0; i < 50 && answer.find("served") == std::string::npos; ++i) {
    answer = http_get("127.0.0.1", loopback_port, "/index.html");
    if (answer.empty()) std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(answer.find("served"), std::string::npos) << answer;
  EXPECT_NE(http_get(gateway_of("bridge"), any_port, "/index.html").find("served"), std::string::npos);
  EXPECT_NE(http_get("127.0.0.1", any_port, "/index.html").find("served"), std::string::npos);
  EXPECT_NE(http_get("127.0.0.1", std::stoi(chosen), "/index.html").find("served"), std::string::npos);
  // Published on 127.0.0.1 only: not on the bridge address.
  EXPECT_EQ(http_get(gateway_of("bridge"), loopback_port, "/index.html"), "");
  EXPECT_EQ(mcore({"rm", "-f", id}).exit_code, 0);
  EXPECT_EQ(http_get("127.0.0.1", any_port, "/index.html"), "") << "the port still answers after rm";
  expect_nothing_left();
}

TEST_F(NetworkTest, PublishAllPublishesTheImagesExposedPortsOnFreePorts) {
  // An image whose config exposes 80/tcp and 5353/udp, loaded from an OCI archive.
  TempDir work("mcore-network-image");
  OciImageBuilder builder(work.path() / "layout");
  Layer layer = {LayerEntry::directory("bin"), LayerEntry::file("bin/busybox", read_text("/bin/busybox"), 0755),
                 LayerEntry::directory("tmp", 01777), LayerEntry::directory("etc")};
  for (const char* applet : {"sh", "httpd", "echo"}) layer.push_back(LayerEntry::symlink(std::string("bin/") + applet, "busybox"));
  const auto image = builder.add_image({layer}, "amd64", "",
                                       {{"Env", {"PATH=/bin"}},
                                        {"ExposedPorts", {{"80/tcp", nlohmann::json::object()}, {"5353/udp", nlohmann::json::object()}}}});
  builder.tag(image, "exposed:1");
  const fs::path archive = work.path() / "exposed.tar";
  ASSERT_EQ(run_command({"/usr/bin/tar", "-C", builder.dir().string(), "-cf", archive.string(), "."}).exit_code, 0);
  auto loaded = mcore({"load", "-i", archive.string()});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;

  auto run = mcore({"run", "-d", "-P", "--network", "bridge", "--dns", "127.0.0.1", "exposed:1", "sh", "-c",
                    "echo exposed > /tmp/index.html; httpd -f -p 80 -h /tmp"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string id = trimmed(run.out);
  const auto ports = inspect(id)["NetworkSettings"]["Ports"];
  const std::string tcp = ports["80/tcp"][0].value("HostPort", "");
  const std::string udp = ports["5353/udp"][0].value("HostPort", "");
  ASSERT_FALSE(tcp.empty()) << ports.dump();
  EXPECT_FALSE(udp.empty()) << ports.dump();
  std::string answer;
  for (int i = 0; i < 50 && answer.find("exposed") == std::string::npos; ++i) {
    answer = http_get("127.0.0.1", std::stoi(tcp), "/index.html");
    if (answer.empty()) std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(answer.find("exposed"), std::string::npos) << answer;
  // exec joins the container's network namespace: it sees eth0 with the container's address.
  auto exec = mcore({"exec", id, "sh", "-c", "cat /proc/net/fib_trie | grep -c " + address_of(id)});
  EXPECT_EQ(exec.exit_code, 0) << exec.err << exec.out;
  EXPECT_EQ(mcore({"rm", "-f", id}).exit_code, 0);
  expect_nothing_left();
}

TEST_F(NetworkTest, APublishedUdpPortAnswers) {
  const int port = free_port(SOCK_DGRAM);
  const std::string id = detached("bridge", {"-p", "127.0.0.1:" + std::to_string(port) + ":5353/udp"},
                                  "exec mcore-probe udp-echo 5353");
  std::string reply;
  for (int i = 0; i < 20 && reply.empty(); ++i) reply = udp_exchange("127.0.0.1", port, "ping");
  EXPECT_EQ(reply, "echo:ping");
  EXPECT_EQ(mcore({"rm", "-f", id}).exit_code, 0);
  expect_nothing_left();
}

TEST_F(NetworkTest, AHostPortInUseIsRefusedAndNothingIsLeft) {
  // Taken by a process on the host...
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string taken = std::to_string(ntohs(address.sin_port));
  auto result = run_script("bridge", "true", {"-p", "127.0.0.1:" + taken + ":80"});
  ::close(fd);
  EXPECT_EQ(result.exit_code, 125);
  EXPECT_NE(result.err.find("host port 127.0.0.1:" + taken + "/tcp is already in use"), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << "one line:\n" << result.err;
  expect_nothing_left();

  // ... and by another container: the first keeps it for its whole life.
  const std::string port = std::to_string(free_port());
  const std::string first = detached("bridge", {"-p", port + ":80"}, "sleep 30");
  result = run_script("bridge", "true", {"-p", port + ":80"});
  EXPECT_EQ(result.exit_code, 125);
  EXPECT_NE(result.err.find("already in use"), std::string::npos) << result.err;
  EXPECT_EQ(mcore({"rm", "-f", first}).exit_code, 0);
  result = run_script("bridge", "true", {"-p", port + ":80"});
  EXPECT_EQ(result.exit_code, 0) << "the port was not freed with its container: " << result.err;
  expect_nothing_left();
}

TEST_F(NetworkTest, TwentyParallelStartsGetDistinctAddresses) {
  create_network("many", "10.233.43.0/24");
  std::vector<std::future<CommandResult>> starts;
  for (int i = 0; i < 20; ++i) {
    starts.push_back(std::async(std::launch::async, [&] {
      return mcore({"run", "-d", "--network", "many", "--dns", "127.0.0.1", "--rootfs", shared_probe_rootfs().string(),
                    "sleep", "30"});
    }));
  }
  std::set<std::string> addresses;
  std::vector<std::string> ids;
  for (auto& start : starts) {
    auto result = start.get();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    ids.push_back(trimmed(result.out));
    addresses.insert(address_of(ids.back()));
  }
  EXPECT_EQ(addresses.size(), 20u);
  EXPECT_EQ(addresses.count(""), 0u);
  std::vector<std::string> rm{"rm", "-f"};
  rm.insert(rm.end(), ids.begin(), ids.end());
  EXPECT_EQ(mcore(rm).exit_code, 0);
  expect_nothing_left();
}

TEST_F(NetworkTest, PruneRemovesWhatAKilledSupervisorLeft) {
  const std::string id = detached("bridge", {"-p", std::to_string(free_port()) + ":80"}, "sleep 30");
  ASSERT_TRUE(has_link_named("mcv" + id.substr(0, 12)));
  ASSERT_NE(container_rules(), "");
  ASSERT_NO_FATAL_FAILURE(kill_supervisor(id));
  EXPECT_NE(leases_text().find(id), std::string::npos) << "the crash should have left the lease";
  auto result = mcore({"prune", "-f"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  expect_nothing_left();
}

TEST_F(NetworkTest, APortAKilledSupervisorPublishedServesTheNextContainerThatPublishesIt) {
  // Issue 14, item 3: the dead container's DNAT rule stayed first in line and the port timed out.
  const int port = free_port();
  const std::string first = detached("bridge", {"-p", std::to_string(port) + ":80"},
                                     "echo first > /tmp/index.html; exec httpd -f -p 80 -h /tmp");
  ASSERT_NE(served_on(port).find("first"), std::string::npos);
  ASSERT_NO_FATAL_FAILURE(kill_supervisor(first));
  const std::string second = detached("bridge", {"-p", std::to_string(port) + ":80"},
                                      "echo second > /tmp/index.html; exec httpd -f -p 80 -h /tmp");
  EXPECT_NE(served_on(port).find("second"), std::string::npos) << "the port did not reach the new container";
  const std::string rules = container_rules();
  EXPECT_EQ(rules.find("ctr:" + first), std::string::npos) << "the dead container's rules stayed:\n" << rules;
}

TEST_F(NetworkTest, AfterTheStateRootIsLostNoOldRuleLeadsToAReusedAddress) {
  // Issue 14, item 3: with the leases gone (a reboot-like loss of the state root, the rules still in the
  // kernel), the next container got the dead one's address and its unpublished port answered there.
  const int port = free_port();
  const std::string first = detached("bridge", {"-p", std::to_string(port) + ":80"},
                                     "echo first > /tmp/index.html; exec httpd -f -p 80 -h /tmp");
  ASSERT_NE(served_on(port).find("first"), std::string::npos);
  const std::string address = address_of(first);
  ASSERT_NO_FATAL_FAILURE(kill_supervisor(first));
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(sandbox_->state_root(), error)) fs::remove_all(entry.path(), error);
  const std::string second = detached("bridge", {}, "echo second > /tmp/index.html; exec httpd -f -p 80 -h /tmp");
  ASSERT_EQ(address_of(second), address) << "the test needs the address to be reused";
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(http_get("127.0.0.1", port, "/index.html"), "") << "a port it never published reached it";
  EXPECT_EQ(container_rules().find("ctr:" + first), std::string::npos) << container_rules();
}

TEST_F(NetworkTest, NetworkVerbsCreateListInspectRemoveAndPrune) {
  create_network("alpha", "10.233.44.0/24");
  create_network("beta");
  auto ls = mcore({"network", "ls"});
  EXPECT_NE(ls.out.find("alpha"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("10.233.44.0/24"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("beta"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("none"), std::string::npos) << ls.out;
  const auto alpha = inspect("alpha", "network");
  EXPECT_EQ(alpha["IPAM"]["Config"][0].value("Gateway", ""), "10.233.44.1");
  const std::string bridge = alpha["Options"].value("bridge", "");
  EXPECT_TRUE(fs::exists("/sys/class/net/" + bridge)) << bridge;

  const std::string user = detached("alpha", {"--name", "user"}, "sleep 30");
  EXPECT_TRUE(inspect("alpha", "network")["Containers"].contains(user));
  auto refused = mcore({"network", "rm", "alpha"});
  EXPECT_EQ(refused.exit_code, 125);
  EXPECT_NE(refused.err.find("in use"), std::string::npos) << refused.err;
  EXPECT_EQ(mcore({"rm", "-f", user}).exit_code, 0);
  EXPECT_EQ(mcore({"network", "rm", "alpha"}).exit_code, 0);
  EXPECT_FALSE(fs::exists("/sys/class/net/" + bridge)) << "the bridge stayed";
  auto prune = mcore({"network", "prune", "-f"});
  EXPECT_NE(prune.out.find("beta"), std::string::npos) << prune.out;
  ls = mcore({"network", "ls", "-q"});
  EXPECT_EQ(ls.out.find("beta"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("bridge"), std::string::npos) << ls.out;
  EXPECT_EQ(mcore({"network", "rm", "bridge"}).exit_code, 125);
}

TEST_F(NetworkTest, BadInputGetsOneClearLineAndExitCode125) {
  create_network("taken", "10.233.45.0/24");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"network", "create", "--subnet", "10.233.45.128/25", "overlap"}, "overlaps network taken"},
      {{"network", "create", "--subnet", "10.233.450.0/24", "bad"}, "10.233.450.0/24"},
      {{"network", "create", "--subnet", "10.233.46.1/24", "hostbits"}, "10.233.46.0/24"},
      {{"network", "create", "taken"}, "already exists"},
      {{"network", "rm", "nowhere"}, "network nowhere not found"},
      {{"run", "--rm", "--network", "nowhere", "--rootfs", shared_probe_rootfs().string(), "true"}, "network nowhere not found"},
      {{"run", "--rm", "--network", "bridge", "-p", "80:99999", "--rootfs", shared_probe_rootfs().string(), "true"}, "invalid port"},
      {{"run", "--rm", "--network", "none", "-p", "8080:80", "--rootfs", shared_probe_rootfs().string(), "true"}, "--network none"},
      {{"run", "--rm", "--add-host", "db", "--rootfs", shared_probe_rootfs().string(), "true"}, "db"},
  };
  for (const auto& c : cases) {
    auto result = mcore(c.args);
    EXPECT_EQ(result.exit_code, 125) << c.args[1] << " " << c.message << ": " << result.err;
    EXPECT_NE(result.err.find(c.message), std::string::npos) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
  auto ps = mcore({"ps", "-a", "-q"});
  EXPECT_EQ(ps.out, "") << "a refused run left a container";
  auto ls = mcore({"network", "ls", "-q"});
  EXPECT_EQ(ls.out.find("overlap"), std::string::npos);
  expect_nothing_left();
}

TEST_F(NetworkTest, StopDetachesAndStartAttachesAgain) {
  const std::string port = std::to_string(free_port());
  const std::string id = detached("bridge", {"-p", "127.0.0.1:" + port + ":80"},
                                  "echo again > /tmp/index.html; exec httpd -f -p 80 -h /tmp");
  EXPECT_EQ(mcore({"stop", "-t", "1", id}).exit_code, 0);
  EXPECT_EQ(inspect(id)["NetworkSettings"].value("IPAddress", "x"), "");
  expect_nothing_left();
  EXPECT_EQ(mcore({"start", id}).exit_code, 0);
  EXPECT_NE(address_of(id), "");
  std::string answer;
  for (int i = 0; i < 50 && answer.find("again") == std::string::npos; ++i) {
    answer = http_get("127.0.0.1", std::stoi(port), "/index.html");
    if (answer.empty()) std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(answer.find("again"), std::string::npos);
  EXPECT_EQ(mcore({"rm", "-f", id}).exit_code, 0);
  expect_nothing_left();
}

TEST_F(NetworkTest, ADamagedNetworkListIsOneClearLineNeverACrash) {
  ASSERT_EQ(mcore({"network", "ls"}).exit_code, 0);  // records the default network
  const fs::path list = sandbox_->data_root() / "network" / "bridge" / "networks.json";
  const std::string intact = read_text(list);
  for (const std::string damaged : {"[1,2]", "[{\"name\":5}]", "{}", "[{\"name\":\"x\"}]", "not json",
                                    "[{\"name\":\"b\",\"id\":\"1\",\"bridge\":\"b\",\"subnet\":\"10.0.0.0/24\","
                                    "\"gateway\":\"10.0.0.1\",\"default\":\"yes\"}]"}) {
    std::ofstream(list, std::ios::trunc) << damaged;
    for (const std::vector<std::string>& command : std::vector<std::vector<std::string>>{
             {"network", "ls"},
             {"run", "--rm", "--network", "bridge", "--rootfs", shared_probe_rootfs().string(), "true"}}) {
      auto result = mcore(command);
      EXPECT_EQ(result.exit_code, 125) << damaged << ": " << command.front() << ": " << result.err;
      EXPECT_NE(result.err.find("damaged network list " + list.string()), std::string::npos) << damaged << ": " << result.err;
    }
  }
  std::ofstream(list, std::ios::trunc) << intact;
  EXPECT_EQ(mcore({"network", "ls"}).exit_code, 0);
}

// --- What a container and the outside may reach (issue 13) ---------------------------------------------

// A UDP socket on the host's 127.0.0.1 that records what reaches it.
class LoopbackListener {
 public:
  LoopbackListener() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    timeval timeout{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~LoopbackListener() { ::close(fd_); }
  int port() const { return port_; }
  // What the first datagram held, "" when none came within 2 s.
  std::string received() {
    char buffer[2048];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
  }

 private:
  int fd_;
  int port_ = 0;
};

TEST_F(NetworkTest, ADefaultContainerCannotReachTheHostsLoopbackListeners) {
  // The bridge accepts 127.0.0.0/8 from containers (route_localnet, for ports published on 127.0.0.1):
  // a container with CAP_NET_RAW hands the host a frame addressed to 127.0.0.1 through its gateway.
  LoopbackListener listener;
  auto sent = run_script("bridge", "mcore-probe raw-udp " + gateway_of("bridge") + " 127.0.0.1 " +
                                       std::to_string(listener.port()) + " from-the-container");
  ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  EXPECT_EQ(listener.received(), "") << "a host service on 127.0.0.1 got a container's packet";
  // Ports published on 127.0.0.1 still answer there (their traffic is DNAT-ed).
  const int port = free_port();
  const std::string id = detached("bridge", {"-p", "127.0.0.1:" + std::to_string(port) + ":80"},
                                  "echo served > /tmp/index.html; httpd -f -p 80 -h /tmp");
  std::string answer;
  for (int i = 0; i < 50 && answer.find("served") == std::string::npos; ++i, std::this_thread::sleep_for(100ms)) {
    answer = http_get("127.0.0.1", port, "/index.html");
  }
  EXPECT_NE(answer.find("served"), std::string::npos) << answer;
  EXPECT_EQ(mcore({"rm", "-f", id}).exit_code, 0);
}

// A host on the outside of this machine, stood in for by a network namespace of the test's own joined
// to the host by a veth pair, with a route to `subnets` through the host.
class OutsideHost {
 public:
  explicit OutsideHost(const std::vector<std::string>& subnets)
      : name_("mcore-test-out-" + std::to_string(::getpid())), link_("mcto" + std::to_string(::getpid() % 100000)) {
    ip({"netns", "add", name_});
    ip({"link", "add", link_, "type", "veth", "peer", "name", "eth0", "netns", name_});
    ip({"addr", "add", "10.233.99.1/30", "dev", link_});
    ip({"link", "set", link_, "up"});
    in_namespace({"/usr/sbin/ip", "addr", "add", "10.233.99.2/30", "dev", "eth0"});
    in_namespace({"/usr/sbin/ip", "link", "set", "eth0", "up"});
    in_namespace({"/usr/sbin/ip", "link", "set", "lo", "up"});
    for (const auto& subnet : subnets) in_namespace({"/usr/sbin/ip", "route", "add", subnet, "via", "10.233.99.1"});
  }
  ~OutsideHost() {
    run_command({"/usr/sbin/ip", "link", "delete", link_});
    run_command({"/usr/sbin/ip", "netns", "delete", name_});
  }
  static std::string host_address() { return "10.233.99.1"; }

  // GET /index.html from the outside host: the body, "" when nothing answers within 3 s.
  std::string fetch(const std::string& address, int port) const {
    int answer[2];
    EXPECT_EQ(::pipe(answer), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int netns = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
      if (netns < 0 || ::setns(netns, CLONE_NEWNET) != 0) ::_exit(3);
      const std::string response = http_get(address, port, "/index.html");
      const auto body = response.find("\r\n\r\n");
      const std::string text = body == std::string::npos ? "" : response.substr(body + 4);
      ::_exit(::write(answer[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()) ? 0 : 4);
    }
    ::close(answer[1]);
    std::string text;
    char buffer[512];
    ssize_t n;
    while ((n = ::read(answer[0], buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
    ::close(answer[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the outside host's request failed to run";
    return text;
  }

 private:
  static void ip(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/usr/sbin/ip"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run_command(argv);
    EXPECT_EQ(result.exit_code, 0) << result.err;
  }
  void in_namespace(const std::vector<std::string>& command) const {
    std::vector<std::string> argv{"/usr/sbin/ip", "netns", "exec", name_};
    argv.insert(argv.end(), command.begin(), command.end());
    auto result = run_command(argv);
    EXPECT_EQ(result.exit_code, 0) << result.err;
  }

  std::string name_;
  std::string link_;
};

TEST_F(NetworkTest, FromOutsideOnlyPublishedPortsAreReachable) {
  Forwarding forwarding;
  create_network("open", "10.233.98.0/24");
  auto routed = mcore({"network", "create", "--subnet", "10.233.97.0/24", "--opt", "gateway_mode_ipv4=nat-unprotected",
                       "routed"});
  ASSERT_EQ(routed.exit_code, 0) << routed.err;
  const int published = free_port();
  const std::string script = "echo inside > /tmp/index.html; httpd -p 8080 -h /tmp; exec httpd -f -p 80 -h /tmp";
  const std::string guarded = detached("open", {"-p", std::to_string(published) + ":8080"}, script);
  const std::string unguarded = detached("routed", {}, script);
  OutsideHost outside({"10.233.98.0/24", "10.233.97.0/24"});

  // The published port answers on the host's address, for the outside too.
  std::string answer;
  for (int i = 0; i < 30 && answer.empty(); ++i, std::this_thread::sleep_for(100ms)) {
    answer = outside.fetch(OutsideHost::host_address(), published);
  }
  EXPECT_EQ(answer, "inside\n") << "the published port did not answer the outside";
  // A port never published is not reachable by routing to the container's address.
  EXPECT_EQ(outside.fetch(address_of(guarded), 80), "") << "an unpublished port answered the outside";
  EXPECT_EQ(outside.fetch(address_of(guarded), 8080), "") << "the container's address answered the outside";
  // Unless the network was created to allow it.
  EXPECT_EQ(outside.fetch(address_of(unguarded), 80), "inside\n");
  EXPECT_EQ(mcore({"rm", "-f", guarded, unguarded}).exit_code, 0);
}

}  // namespace
}  // namespace mcore::test
