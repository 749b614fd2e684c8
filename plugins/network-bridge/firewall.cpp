#include "firewall.hpp"

#include <nftables/libnftables.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "ipv4.hpp"
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
  auto bind_all = [](LazyLibrary& library, Nftables& f) {
    library.bind("nft_ctx_new", f.ctx_new);
    library.bind("nft_ctx_free", f.ctx_free);
    library.bind("nft_ctx_buffer_output", f.ctx_buffer_output);
    library.bind("nft_ctx_buffer_error", f.ctx_buffer_error);
    library.bind("nft_ctx_get_error_buffer", f.ctx_get_error_buffer);
    library.bind("nft_ctx_get_output_buffer", f.ctx_get_output_buffer);
    library.bind("nft_ctx_output_get_flags", f.ctx_output_get_flags);
    library.bind("nft_ctx_output_set_flags", f.ctx_output_set_flags);
    library.bind("nft_run_cmd_from_buffer", f.run_cmd_from_buffer);
  };
  return lazy_functions<Nftables>("libnftables.so.1", "install libnftables1 (apt-get install libnftables1)",
                                  bind_all);
}

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

// A rule comment's words: "ctr:ID port:tcp/8080@* to:172.17.0.2" -> {"ctr:ID", "port:...", "to:..."}.
std::vector<std::string> words_of(const std::string& comment) {
  std::vector<std::string> words;
  for (std::size_t at = 0; at < comment.size();) {
    const std::size_t end = std::min(comment.find(' ', at), comment.size());
    if (end > at) words.push_back(comment.substr(at, end - at));
    at = end + 1;
  }
  return words;
}

// The value of the word starting with `key` ("port:", "to:"), "" when there is none.
std::string value_of(const std::vector<std::string>& words, std::string_view key) {
  for (const auto& word : words) {
    if (word.starts_with(key)) return word.substr(key.size());
  }
  return "";
}

// "tcp/8080@*" for every host address, "tcp/8080@127.0.0.1" for one.
std::string host_port_key(const PublishedPort& port) {
  return port.protocol + "/" + std::to_string(port.host_port) + "@" + (port.host_ip.empty() ? "*" : port.host_ip);
}

// Whether two keys take the same host port: one protocol and port, on one address or on every one. Only
// one socket can hold such a port, so a rule for it whose owner is not the socket's holder is stale.
bool same_host_port(const std::string& a, const std::string& b) {
  const auto at_a = a.find('@'), at_b = b.find('@');
  if (at_a == std::string::npos || at_b == std::string::npos || a.compare(0, at_a, b, 0, at_b) != 0) return false;
  const std::string ip_a = a.substr(at_a + 1), ip_b = b.substr(at_b + 1);
  return ip_a == ip_b || ip_a == "*" || ip_b == "*";
}

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
  const std::string owner_word = "ctr:" + container_id;
  const std::string owner = " comment " + quoted(owner_word) + "\n";
  const std::string table = "ip " + table_;
  std::vector<std::string> keys;
  for (const auto& port : ports) {
    check_protocol(port.protocol);
    keys.push_back(host_port_key(port));
  }
  // Ourselves, and whoever has a DNAT rule for one of these ports: its socket is gone, so is its
  // container, and every rule it left goes.
  std::set<std::string> replaced{owner_word};
  for (const auto& comment : rule_comments()) {
    const auto words = words_of(comment);
    const std::string taken = value_of(words, "port:");
    if (!taken.empty() && std::any_of(keys.begin(), keys.end(), [&](const auto& key) { return same_host_port(taken, key); })) {
      replaced.insert(words.front());
    }
  }
  std::string commands = deletions([&](const std::string& comment) {
    const auto words = words_of(comment);
    return !words.empty() && replaced.contains(words.front());
  });
  std::set<std::string> masqueraded;  // several host ports may lead to one container port
  for (const auto& port : ports) {
    const std::string to_host = port.host_ip.empty() ? "fib daddr type local " : "ip daddr " + port.host_ip + " ";
    const std::string match = to_host + port.protocol + " dport " + std::to_string(port.host_port);
    const std::string target = port.container_ip + ":" + std::to_string(port.container_port);
    const std::string dnat_owner =
        " comment " + quoted(owner_word + " port:" + host_port_key(port) + " to:" + port.container_ip) + "\n";
    commands += "add rule " + table + " prerouting " + match + " dnat to " + target + dnat_owner +
                "add rule " + table + " output " + match + " dnat to " + target + dnat_owner;
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

std::string Firewall::deletions(const std::function<bool(const std::string& comment)>& doomed) const {
  const std::string listed = list_json();
  if (listed.empty()) return "";
  std::string commands;
  for (const auto& item : nlohmann::json::parse(listed).value("nftables", nlohmann::json::array())) {
    if (!item.contains("rule")) continue;
    const auto& rule = item["rule"];
    if (!doomed(rule.value("comment", ""))) continue;
    commands += "delete rule ip " + table_ + " " + rule.value("chain", "") + " handle " +
                std::to_string(rule.value("handle", 0)) + "\n";
  }
  return commands;
}

void Firewall::remove_owner(const std::string& owner) {
  const std::string commands = deletions([&](const std::string& comment) {
    const auto words = words_of(comment);
    return !words.empty() && words.front() == owner;
  });
  if (!commands.empty()) run(commands);
}

void Firewall::remove_stale_port_rules(const std::string& subnet, const std::vector<std::string>& keep) {
  const Ipv4Subnet range = parse_subnet(subnet);
  std::set<std::string> stale;  // owners whose DNAT leads into the subnet without a lease behind it
  for (const auto& comment : rule_comments()) {
    const auto words = words_of(comment);
    const std::string to = value_of(words, "to:");
    if (to.empty() || !words.front().starts_with("ctr:")) continue;
    if (std::find(keep.begin(), keep.end(), words.front().substr(4)) != keep.end()) continue;
    try {
      if (range.contains(parse_ipv4(to))) stale.insert(words.front());
    } catch (const Error&) {
      // Not an address: not a rule this driver wrote.
    }
  }
  if (stale.empty()) return;
  const std::string commands = deletions([&](const std::string& comment) {
    const auto words = words_of(comment);
    return !words.empty() && stale.contains(words.front());
  });
  if (!commands.empty()) run(commands);
}

std::vector<std::string> Firewall::rule_comments() const {
  std::vector<std::string> comments;
  const std::string listed = list_json();
  if (listed.empty()) return comments;
  for (const auto& item : nlohmann::json::parse(listed).value("nftables", nlohmann::json::array())) {
    if (item.contains("rule")) comments.push_back(item["rule"].value("comment", ""));
  }
  return comments;
}

std::vector<std::string> Firewall::owners() const {
  std::vector<std::string> found;
  for (const auto& comment : rule_comments()) {
    const auto words = words_of(comment);
    if (!words.empty() && std::find(found.begin(), found.end(), words.front()) == found.end()) {
      found.push_back(words.front());
    }
  }
  return found;
}

void Firewall::remove_table() {
  if (!list_json().empty()) run("delete table ip " + table_ + "\n");
}

}  // namespace mcore::bridge
