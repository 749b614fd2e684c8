#pragma once
// The text of /etc/hosts and /etc/resolv.conf that mcore bind-mounts into every container (/etc/hostname
// is the hostname and a newline), built as Docker builds them, and the --add-host and --dns values they
// come from. Pure functions: the caller reads the host's files and writes the results.
#include <string>
#include <vector>

namespace mcore::engine {

// One /etc/hosts line: an address and the names it answers to.
struct HostEntry {
  std::string address;
  std::vector<std::string> names;
};

// /etc/hosts as Docker writes it: "127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
// "fe00::0\tip6-localnet", "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters",
// then `extra` (from --add-host) in order, then `own` (the container's address, its hostname, and its
// name when different) when own.address is non-empty, then `peers` (other containers on the same user
// network). One line per entry: the address, a tab, the names joined by single spaces. An entry without
// an address or without names is left out: such a line would name nothing.
std::string hosts_file(const std::vector<HostEntry>& extra, const HostEntry& own,
                       const std::vector<HostEntry>& peers);

// `entries` as /etc/hosts lines (what hosts_file() writes for them), for appending to another file.
std::string hosts_lines(const std::vector<HostEntry>& entries);

// One --add-host value, "name:ip" (Docker's syntax) or "name=ip". The ip is IPv4 or IPv6, IPv6 optionally
// in brackets ("db:[::1]"); it is kept as written. "host-gateway" is replaced by `host_gateway`, and
// refused when that is empty (no gateway known). Throws Error naming the value and the expected form on
// an empty name, a name /etc/hosts cannot hold (':', whitespace, '#') or an invalid address.
HostEntry parse_add_host(const std::string& value, const std::string& host_gateway);

// /etc/resolv.conf for a container from `host_text`, the host's resolv.conf, as Docker does it:
// - `own_network_namespace` false (--network=host): the host's text unchanged (a missing final newline
//   added) unless `dns`, `search` or `options` is given; the host's loopback resolvers still work there.
// - otherwise nameservers on a loopback address (127.0.0.0/8, ::1, also IPv4-mapped) are dropped: they
//   are unreachable from the container's namespace. With none left, Docker's defaults 8.8.8.8 and 8.8.4.4
//   are written, after a comment saying why.
// - `dns` (--dns) replaces every nameserver line, `search` (--dns-search) every search and domain line
//   (search {"."} removes them and writes none, as in Docker), `options` (--dns-option) every options
//   line. A replacement takes the place of the first line it replaces, or goes at the end.
// - Other lines (comments, sortlist, ...) are kept in place. The result ends with a newline.
// The caller picks the host file: on a systemd-resolved host, /run/systemd/resolve/resolv.conf lists
// the real upstream servers where /etc/resolv.conf only has the 127.0.0.53 stub.
std::string resolv_conf(const std::string& host_text, bool own_network_namespace,
                        const std::vector<std::string>& dns, const std::vector<std::string>& search,
                        const std::vector<std::string>& options);

// Checks one --dns value is an IPv4 or IPv6 address; throws Error naming the value otherwise.
void check_dns_server(const std::string& value);

}  // namespace mcore::engine
