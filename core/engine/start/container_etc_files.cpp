#include "engine/start/container_etc_files.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstddef>
#include <string_view>

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

constexpr std::string_view kHostGateway = "host-gateway";
constexpr std::string_view kAddHostForm = "use --add-host name:ip, e.g. db:10.0.0.5 or db:[::1]";

bool is_ipv4(const std::string& text) {
  in_addr address{};
  return ::inet_pton(AF_INET, text.c_str(), &address) == 1;
}

bool is_ipv6(const std::string& text) {
  in6_addr address{};
  return ::inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

bool is_ip_address(const std::string& text) { return is_ipv4(text) || is_ipv6(text); }

// 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104; a zone ("%eth0") is ignored. Unparsable is not loopback.
bool is_loopback(std::string text) {
  text = text.substr(0, text.find('%'));
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) != 1) return false;
  return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
}

void append_entry(std::string& out, const HostEntry& entry) {
  if (entry.address.empty() || entry.names.empty()) return;
  out += entry.address;
  char separator = '\t';
  for (const auto& name : entry.names) {
    out += separator;
    out += name;
    separator = ' ';
  }
  out += '\n';
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The whitespace-separated words of a resolv.conf line: the keyword, then its values.
std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> words;
  std::size_t start = line.find_first_not_of(" \t");
  while (start != std::string::npos) {
    std::size_t end = line.find_first_of(" \t", start);
    words.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
    start = line.find_first_not_of(" \t", end);
  }
  return words;
}

std::string joined_line(std::string keyword, const std::vector<std::string>& values) {
  for (const auto& value : values) keyword += ' ' + value;
  return keyword;
}

// One kind of resolv.conf line being replaced: its new lines go where the first old one was.
struct Replacement {
  std::vector<std::string> lines;
  bool placed = false;

  void place(std::vector<std::string>& out) {
    if (placed) return;
    out.insert(out.end(), lines.begin(), lines.end());
    placed = true;
  }
};

}  // namespace

std::string hosts_file(const std::vector<HostEntry>& extra, const HostEntry& own,
                       const std::vector<HostEntry>& peers) {
  std::string out =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "ff00::0\tip6-mcastprefix\n"
      "ff02::1\tip6-allnodes\n"
      "ff02::2\tip6-allrouters\n";
  for (const auto& entry : extra) append_entry(out, entry);
  append_entry(out, own);
  for (const auto& entry : peers) append_entry(out, entry);
  return out;
}

std::string hosts_lines(const std::vector<HostEntry>& entries) {
  std::string out;
  for (const auto& entry : entries) append_entry(out, entry);
  return out;
}

HostEntry parse_add_host(const std::string& value, const std::string& host_gateway) {
  // "=" first: only then may the address itself hold colons unbracketed ("db=::1" as well as "db:::1").
  std::size_t separator = value.find('=');
  if (separator == std::string::npos) separator = value.find(':');
  if (separator == std::string::npos) {
    throw Error("invalid --add-host \"" + value + "\": no ':' between name and address", 0,
                std::string(kAddHostForm));
  }
  std::string name = value.substr(0, separator);
  std::string address = value.substr(separator + 1);
  if (name.empty() || name.find_first_of(": \t\r\n\v\f#") != std::string::npos) {
    throw Error("invalid --add-host \"" + value + "\": bad host name \"" + name + "\"", 0,
                std::string(kAddHostForm));
  }
  if (address == kHostGateway) {
    if (host_gateway.empty()) {
      throw Error("--add-host \"" + value + "\": no host gateway is known for this container", 0,
                  "give the host's address instead of host-gateway");
    }
    return HostEntry{host_gateway, {name}};
  }
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  if (!is_ip_address(address)) {
    throw Error("invalid IP address \"" + address + "\" in --add-host \"" + value + "\"", 0,
                std::string(kAddHostForm));
  }
  return HostEntry{address, {name}};
}

std::string resolv_conf(const std::string& host_text, bool own_network_namespace,
                        const std::vector<std::string>& dns, const std::vector<std::string>& search,
                        const std::vector<std::string>& options) {
  if (!own_network_namespace && dns.empty() && search.empty() && options.empty()) {
    if (host_text.empty() || host_text.back() == '\n') return host_text;
    return host_text + '\n';
  }

  Replacement nameservers;
  for (const auto& server : dns) nameservers.lines.push_back("nameserver " + server);
  Replacement searches;
  if (!(search.size() == 1 && search.front() == ".")) searches.lines.push_back(joined_line("search", search));
  Replacement option_lines;
  option_lines.lines.push_back(joined_line("options", options));

  std::vector<std::string> out;
  bool kept_nameserver = false;
  std::size_t first_nameserver_at = std::string::npos;  // where the defaults go when none is kept
  for (const auto& line : split_lines(host_text)) {
    const std::vector<std::string> words = words_of(line);
    const std::string keyword = words.empty() ? "" : words.front();
    if (keyword == "nameserver") {
      if (!dns.empty()) {
        nameservers.place(out);
        continue;
      }
      if (first_nameserver_at == std::string::npos) first_nameserver_at = out.size();
      if (own_network_namespace && words.size() > 1 && is_loopback(words[1])) continue;
      kept_nameserver = kept_nameserver || words.size() > 1;  // a bare "nameserver" names no server
    } else if ((keyword == "search" || keyword == "domain") && !search.empty()) {
      searches.place(out);
      continue;
    } else if (keyword == "options" && !options.empty()) {
      option_lines.place(out);
      continue;
    }
    out.push_back(line);
  }

  if (!dns.empty()) {
    nameservers.place(out);
  } else if (own_network_namespace && !kept_nameserver) {
    const std::vector<std::string> defaults = {
        "# mcore: the host's resolvers are loopback-only; using public defaults", "nameserver 8.8.8.8",
        "nameserver 8.8.4.4"};
    auto at = first_nameserver_at == std::string::npos ? out.end() : out.begin() + first_nameserver_at;
    out.insert(at, defaults.begin(), defaults.end());
  }
  if (!search.empty()) searches.place(out);
  if (!options.empty()) option_lines.place(out);

  std::string text;
  for (const auto& line : out) text += line + '\n';
  return text;
}

void check_dns_server(const std::string& value) {
  if (!is_ip_address(value)) {
    throw Error("invalid --dns value \"" + value + "\": not an IPv4 or IPv6 address", 0,
                "give a DNS server's address, e.g. --dns 8.8.8.8 or --dns 2001:4860:4860::8888");
  }
}

}  // namespace mcore::engine
