#include "mcore/plugin.hpp"

namespace mcore {

std::string_view to_string(DriverKind kind) noexcept {
  switch (kind) {
    case DriverKind::storage: return "storage";
    case DriverKind::network: return "network";
    case DriverKind::resource: return "resource";
    case DriverKind::registry: return "registry";
  }
  return "unknown";
}

Driver::~Driver() = default;

}  // namespace mcore
