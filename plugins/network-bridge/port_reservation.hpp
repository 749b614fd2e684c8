#pragma once
// Published host ports are reserved by binding them: the socket stays open (held by the container's
// supervisor) for the container's life, so a port in use is refused at once with EADDRINUSE, and no
// process can take a published port afterwards. No traffic ever reaches these sockets: DNAT redirects
// it before the socket lookup.
#include <cstdint>
#include <string>

#include "mcore/unique_fd.hpp"

namespace mcore::bridge {

struct ReservedPort {
  UniqueFd socket;
  std::uint16_t port = 0;  // as bound: the kernel's choice when 0 was asked for
};

// Binds `protocol` ("tcp" or "udp") on `host_ip` ("" for every address) and `port` (0: a free port of
// the kernel's choosing); TCP sockets also listen, so that other SO_REUSEADDR binders are refused too.
// Throws Error saying the port is in use, or what else went wrong, with the fix.
ReservedPort reserve_port(const std::string& host_ip, std::uint16_t port, const std::string& protocol);

}  // namespace mcore::bridge
