#include "bridge_config.hpp"

#include <net/if.h>

#include "ipv4.hpp"
#include "mcore/config_section.hpp"
#include "mcore/error.hpp"

namespace mcore::bridge {

BridgeConfig parse_bridge_config(const HostContext& context) {
  ConfigSection section(context.config, context.config_path.empty() ? "network" : context.config_path);
  BridgeConfig config;
  if (auto bridge = section.get_string("bridge")) {
    if (bridge->empty() || bridge->size() >= IFNAMSIZ || bridge->find_first_of("/ :") != std::string::npos) {
      throw Error(section.key_path("bridge") + ": \"" + *bridge + "\" is not a valid interface name", 0,
                  "use 1 to 15 characters without '/', ':' or spaces");
    }
    config.bridge = *bridge;
  }
  if (auto subnet = section.get_string("subnet")) {
    try {
      parse_subnet(*subnet);
    } catch (const Error& error) {
      throw Error(section.key_path("subnet") + ": " + error.what(), 0, error.hint());
    }
    config.subnet = *subnet;
  }
  if (auto mtu = section.get_int("mtu")) {
    if (*mtu < 576 || *mtu > 65535) {
      throw Error(section.key_path("mtu") + ": " + std::to_string(*mtu) + " is out of range", 0,
                  "use an MTU between 576 and 65535 (usually the host's, 1500)");
    }
    config.mtu = static_cast<int>(*mtu);
  }
  if (auto forward = section.get_bool("ip_forward")) config.ip_forward = *forward;
  if (auto table = section.get_string("table")) {
    if (table->empty() || table->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
                              std::string::npos) {
      throw Error(section.key_path("table") + ": \"" + *table + "\" is not a valid nftables table name", 0,
                  "use letters, digits and underscores");
    }
    config.table = *table;
  }
  section.reject_unknown_keys();
  return config;
}

}  // namespace mcore::bridge
