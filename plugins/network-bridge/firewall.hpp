#pragma once
// The bridge driver's firewall rules, all in an nftables table of mcore's own (`ip mcore` by default),
// written through libnftables' batch interface: mcore never lists, flushes, reorders or edits a rule
// outside that table. Every rule carries a comment naming its owner ("net:NAME" or "ctr:ID"), so the
// rules of one network or container are removed exactly, and nothing else with them. A DNAT rule's
// comment also names the host port it takes and the address it leads to ("ctr:ID port:tcp/8080@* to:
// 172.17.0.2"), so that a rule a crash left behind is found by what it would misroute.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct nft_ctx;

namespace mcore::bridge {

struct PublishedPort {
  std::string host_ip;             // "" for every address of the host
  std::uint16_t host_port = 0;
  std::string container_ip;
  std::uint16_t container_port = 0;
  std::string protocol = "tcp";    // "tcp" or "udp"
  // The container's network: its members reach the port through the host's address too (hairpin),
  // and their DNAT-ed connections are masqueraded so that replies come back the same way.
  std::string network_subnet;
};

// What the rules of one network need to know of it.
struct NetworkRules {
  std::string name;
  std::string bridge;
  std::string subnet;   // CIDR
  std::string gateway;  // the bridge's own address in the subnet
  // Docker's gateway_mode_ipv4=nat-unprotected: hosts on the outside may address containers directly.
  bool direct_routing = false;
};

class Firewall {
 public:
  explicit Firewall(std::string table = "mcore");
  ~Firewall();
  Firewall(const Firewall&) = delete;
  Firewall& operator=(const Firewall&) = delete;

  // The table, its NAT chains, its forward and input chains, a prerouting chain at raw priority and the
  // set of mcore's bridges, created when missing.
  void ensure_base();
  // The network's rules, replacing those it has:
  // - masquerade for traffic from its subnet that leaves through another interface than its bridge;
  // - isolation: nothing is forwarded from its bridge to another of mcore's bridges but connections to a
  //   published port (DNAT-ed), which every network may reach;
  // - no container reaches the host's loopback services: route_localnet lets 127.0.0.0/8 in from the
  //   bridge (for published ports on 127.0.0.1), so what arrives there for 127.0.0.0/8 is dropped unless
  //   it belongs to a DNAT-ed connection (the CVE-2020-8558 mitigation);
  // - only published ports are reachable from outside: a packet that arrives on another interface
  //   addressed to a container of the subnet (not to the host, as DNAT-ed and reply traffic is) is
  //   dropped before routing, unless the network allows direct routing.
  void add_network(const NetworkRules& network);
  // DNAT of traffic addressed to the host itself (never of the host's connections to other machines)
  // to the container, and masquerade of what reaches it from the host's loopback or from its own
  // network through the host (hairpin). In the same batch, all of `ports` or none, it removes every
  // older rule of this container, and every rule of an owner with a DNAT rule for one of these host
  // ports: the caller holds the ports' sockets, so such an owner is gone (its supervisor killed).
  void publish(const std::string& container_id, const std::vector<PublishedPort>& ports);
  // Removes the DNAT rules leading to an address of `subnet` whose owner is not in `keep`: what stayed
  // when the state that named them (leases, markers) was lost, before the addresses are leased again.
  void remove_stale_port_rules(const std::string& subnet, const std::vector<std::string>& keep);
  // Remove the rules of one owner (and the network's bridge from the set). Idempotent.
  void remove_network(const std::string& name, const std::string& bridge);
  void unpublish(const std::string& container_id);
  // The owners ("net:NAME", "ctr:ID") that have rules, for pruning what crashes left.
  std::vector<std::string> owners() const;
  // The whole table, when nothing uses it any more. Idempotent.
  void remove_table();

 private:
  void run(const std::string& commands) const;
  std::string list_json() const;
  void remove_owner(const std::string& owner);
  // The comments of the table's rules, one per rule, in order.
  std::vector<std::string> rule_comments() const;
  // "delete rule" commands for every rule of the table whose comment `doomed` accepts.
  std::string deletions(const std::function<bool(const std::string& comment)>& doomed) const;

  std::string table_;
  std::unique_ptr<nft_ctx, void (*)(nft_ctx*)> context_;
};

}  // namespace mcore::bridge
