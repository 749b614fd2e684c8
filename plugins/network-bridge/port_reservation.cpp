#include "port_reservation.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "mcore/error.hpp"

namespace mcore::bridge {

ReservedPort reserve_port(const std::string& host_ip, std::uint16_t port, const std::string& protocol) {
  const bool tcp = protocol == "tcp";
  if (!tcp && protocol != "udp") {
    throw Error("unsupported protocol \"" + protocol + "\"", 0, "publish ports as tcp or udp");
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (!host_ip.empty() && ::inet_pton(AF_INET, host_ip.c_str(), &address.sin_addr) != 1) {
    throw Error("invalid host address \"" + host_ip + "\" for a published port", 0,
                "give an IPv4 address of this host, e.g. -p 127.0.0.1:8080:80");
  }
  const std::string where = (host_ip.empty() ? "0.0.0.0" : host_ip) + ":" + std::to_string(port) + "/" + protocol;
  UniqueFd socket(::socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0));
  if (!socket) throw Error::from_errno("create a socket to reserve " + where);
  const int on = 1;
  if (tcp) ::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    if (error == EADDRINUSE) {
      throw Error("host port " + where + " is already in use", error,
                  "stop what uses it (ss -lntup shows it), or publish another host port");
    }
    if (error == EADDRNOTAVAIL) {
      throw Error("host address " + host_ip + " is not an address of this host", error,
                  "publish on one of this host's addresses, or leave the address out for all of them");
    }
    errno = error;
    throw Error::from_errno("reserve host port " + where);
  }
  if (tcp && ::listen(socket.get(), 1) != 0) {
    throw Error::from_errno("host port " + where + " is already in use",
                            "stop what uses it (ss -lntup shows it), or publish another host port");
  }
  sockaddr_in bound{};
  socklen_t length = sizeof bound;
  if (::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    throw Error::from_errno("read the port reserved for " + where);
  }
  return {std::move(socket), ntohs(bound.sin_port)};
}

}  // namespace mcore::bridge
