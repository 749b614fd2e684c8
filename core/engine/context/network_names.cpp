#include "engine/context/network_names.hpp"

namespace mcore::engine {

std::set<std::string> network_names(Engine& engine) {
  std::set<std::string> names;
  for (const auto& network : engine.network()->list_networks()) names.insert(network.name);
  return names;
}

}  // namespace mcore::engine
