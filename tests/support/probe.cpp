// mcore-probe: a static helper the integration tests copy into container root filesystems to exercise
// what busybox cannot: keyctl, large allocations, fork loops, a UDP echo server. Prints one line; exit code 0 on success.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <linux/keyctl.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* command = argv[1];
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
