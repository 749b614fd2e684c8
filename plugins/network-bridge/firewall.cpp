#include "firewall.hpp"

#include <nftables/libnftables.h>

#include <algorithm>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "mcore/error.hpp"
#include "mcore/lazy_library.hpp"

namespace mcore::bridge {
namespace {

// libnftables (and libnftnl, libjansson, libgmp... with it) is opened the first time a rule is
// touched, not linked: that costs about 4 ms per process, and most attaches and every detach of a
// container without published ports never touch a rule.
struct Nftables {
  decltype(&nft_ctx_new) ctx_new = nullptr;
  decltype(&nft_ctx_free) ctx_free = nullptr;
  decltype(&nft_ctx_buffer_output) ctx_buffer_output = nullptr;
  decltype(&nft_ctx_buffer_error) ctx_buffer_error = nullptr;
  decltype(&nft_ctx_get_error_buffer) ctx_get_error_buffer = nullptr;
  decltype(&nft_ctx_get_output_buffer) ctx_get_output_buffer = nullptr;
  decltype(&nft_ctx_output_get_flags) ctx_output_get_flags = nullptr;
  decltype(&nft_ctx_output_set_flags) ctx_output_set_flags = nullptr;
  decltype(&nft_run_cmd_from_buffer) run_cmd_from_buffer = nullptr;
};

const Nftables& nft() {
  static Nftables functions;
  static std::once_flag loaded;
  std::call_once(loaded, [] {
    static LazyLibrary library("libnftables.so.1", "install libnftables1 (apt-get install libnftables1)");
    library.bind("nft_ctx_new", functions.ctx_new);
    library.bind("nft_ctx_free", functions.ctx_free);
    library.bind("nft_ctx_buffer_output", functions.ctx_buffer_output);
    library.bind("nft_ctx_buffer_error", functions.ctx_buffer_error);
    library.bind("nft_ctx_get_error_buffer", functions.ctx_get_error_buffer);
    library.bind("nft_ctx_get_output_buffer", functions.ctx_get_output_buffer);
    library.bind("nft_ctx_output_get_flags", functions.ctx_output_get_flags);
    library.bind("nft_ctx_output_set_flags", functions.ctx_output_set_flags);
    library.bind("nft_run_cmd_from_buffer", functions.run_cmd_from_buffer);
  });
  return functions;
}

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

void check_protocol(const std::string& protocol) {
  if (protocol != "tcp" && protocol != "udp") {
    throw Error("unsupported protocol \"" + protocol + "\"", 0, "publish ports as tcp or udp");
  }
}

}  // namespace

Firewall::Firewall(std::string table)
    : table_(std::move(table)), context_(nft().ctx_new(NFT_CTX_DEFAULT), nft().ctx_free) {
  if (!context_) throw Error("create an nftables context");
  nft().ctx_buffer_output(context_.get());
  nft().ctx_buffer_error(context_.get());
}

Firewall::~Firewall() = default;

void Firewall::run(const std::string& commands) const {
  if (nft().run_cmd_from_buffer(context_.get(), commands.c_str()) != 0) {
    std::string error = nft().ctx_get_error_buffer(context_.get());
    while (!error.empty() && error.back() == '\n') error.pop_back();
    throw Error("nftables refused mcore's rules in table ip " + table_ + ": " + error);
  }
}

std::string Firewall::list_json() const {
  const unsigned flags = nft().ctx_output_get_flags(context_.get());
  nft().ctx_output_set_flags(context_.get(), flags | NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
  const int result = nft().run_cmd_from_buffer(context_.get(), ("list table ip " + table_).c_str());
  nft().ctx_output_set_flags(context_.get(), flags);
  nft().ctx_get_error_buffer(context_.get());  // a missing table is no error here: drop its message
  return result == 0 ? nft().ctx_get_output_buffer(context_.get()) : "";
}

void Firewall::ensure_base() {
  const std::string table = "ip " + table_;
  run("add table " + table + "\n"
      "add chain " + table + " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
      "add chain " + table + " output { type nat hook output priority -100; policy accept; }\n"
      "add chain " + table + " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
      "add chain " + table + " forward { type filter hook forward priority filter; policy accept; }\n"
      "add chain " + table + " input { type filter hook input priority filter; policy accept; }\n"
      "add chain " + table + " raw_prerouting { type filter hook prerouting priority raw; policy accept; }\n"
      "add set " + table + " bridges { type ifname; }\n");
}

void Firewall::add_network(const NetworkRules& network) {
  remove_owner("net:" + network.name);
  const std::string table = "ip " + table_;
  const std::string owner = " comment " + quoted("net:" + network.name) + "\n";
  const std::string bridge = quoted(network.bridge);
  std::string commands =
      "add element " + table + " bridges { " + bridge + " }\n"
      "add rule " + table + " postrouting ip saddr " + network.subnet + " oifname != " + bridge + " masquerade" + owner +
      "add rule " + table + " forward iifname " + bridge + " oifname != " + bridge +
      " oifname @bridges ct status ! dnat drop" + owner +
      "add rule " + table + " input iifname " + bridge + " ip daddr 127.0.0.0/8 ct status ! dnat drop" + owner;
  if (!network.direct_routing) {
    commands += "add rule " + table + " raw_prerouting iifname != " + bridge + " ip daddr " + network.subnet +
                " ip daddr != " + network.gateway + " drop" + owner;
  }
  run(commands);
}

void Firewall::publish(const std::string& container_id, const std::vector<PublishedPort>& ports) {
  const std::string owner = " comment " + quoted("ctr:" + container_id) + "\n";
  const std::string table = "ip " + table_;
  std::string commands;
  std::set<std::string> masqueraded;  // several host ports may lead to one container port
  for (const auto& port : ports) {
    check_protocol(port.protocol);
    const std::string to_host = port.host_ip.empty() ? "fib daddr type local " : "ip daddr " + port.host_ip + " ";
    const std::string match = to_host + port.protocol + " dport " + std::to_string(port.host_port);
    const std::string target = port.container_ip + ":" + std::to_string(port.container_port);
    commands += "add rule " + table + " prerouting " + match + " dnat to " + target + owner +
                "add rule " + table + " output " + match + " dnat to " + target + owner;
    const std::string to_container =
        "ip daddr " + port.container_ip + " " + port.protocol + " dport " + std::to_string(port.container_port);
    if (!masqueraded.insert(to_container).second) continue;
    commands += "add rule " + table + " postrouting ip saddr 127.0.0.0/8 " + to_container + " masquerade" + owner +
                "add rule " + table + " postrouting ip saddr " +
                (port.network_subnet.empty() ? port.container_ip : port.network_subnet) + " " + to_container +
                " ct status dnat masquerade" + owner;
  }
  if (!commands.empty()) run(commands);
}

void Firewall::remove_network(const std::string& name, const std::string& bridge) {
  remove_owner("net:" + name);
  // Added first so that the deletion cannot fail on a missing element: one batch, all or nothing.
  if (!list_json().empty()) {
    const std::string element = " element ip " + table_ + " bridges { " + quoted(bridge) + " }\n";
    run("add" + element + "delete" + element);
  }
}

void Firewall::unpublish(const std::string& container_id) { remove_owner("ctr:" + container_id); }

void Firewall::remove_owner(const std::string& owner) {
  const std::string listed = list_json();
  if (listed.empty()) return;
  std::string commands;
  for (const auto& item : nlohmann::json::parse(listed).value("nftables", nlohmann::json::array())) {
    if (!item.contains("rule")) continue;
    const auto& rule = item["rule"];
    if (rule.value("comment", "") != owner) continue;
    commands += "delete rule ip " + table_ + " " + rule.value("chain", "") + " handle " +
                std::to_string(rule.value("handle", 0)) + "\n";
  }
  if (!commands.empty()) run(commands);
}

std::vector<std::string> Firewall::owners() const {
  std::vector<std::string> found;
  const std::string listed = list_json();
  if (listed.empty()) return found;
  for (const auto& item : nlohmann::json::parse(listed).value("nftables", nlohmann::json::array())) {
    if (!item.contains("rule")) continue;
    const std::string owner = item["rule"].value("comment", "");
    if (!owner.empty() && std::find(found.begin(), found.end(), owner) == found.end()) found.push_back(owner);
  }
  return found;
}

void Firewall::remove_table() {
  if (!list_json().empty()) run("delete table ip " + table_ + "\n");
}

}  // namespace mcore::bridge
