// Out-of-line destructors give every interface one home for its vtable and typeinfo (this library), and
// the optional storage capabilities their "not supported" default.
#include <cerrno>

#include "mcore/error.hpp"
#include "mcore/io.hpp"
#include "mcore/network_driver.hpp"
#include "mcore/registry_driver.hpp"
#include "mcore/resource_driver.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore {

ByteSource::~ByteSource() = default;
ByteSink::~ByteSink() = default;
StorageDriver::~StorageDriver() = default;
ResourceDriver::~ResourceDriver() = default;
NetworkDriver::~NetworkDriver() = default;
RegistryDriver::~RegistryDriver() = default;

namespace {
[[noreturn]] void unsupported(const char* what) {
  throw Error(std::string("this storage driver does not support ") + what, ENOTSUP,
              "select a storage driver with a layer store in the config's drivers.storage");
}
}  // namespace

void ResourceDriver::update(const std::string&, const ResourceLimits&) {
  throw Error("this resource driver cannot change the limits of a running container", ENOTSUP,
              "select a resource driver that can (cgroup-v1, cgroup-v2) in the config's drivers.resource");
}

void ResourceDriver::limit_hugepages(const std::string&, const std::vector<HugepageLimit>&) {
  throw Error("this resource driver cannot limit huge pages", ENOTSUP,
              "remove the huge page limits, or select a resource driver that can (cgroup-v2) in the config's "
              "drivers.resource");
}

std::optional<LayerInfo> StorageDriver::find_layer(const std::string&) const { return std::nullopt; }
std::vector<LayerInfo> StorageDriver::list_layers() const { return {}; }
LayerInfo StorageDriver::apply_layer(const std::string&, ByteSource&) { unsupported("image layers"); }
void StorageDriver::remove_layer(const std::string&) { unsupported("image layers"); }
void StorageDriver::write_diff(const std::string&, ByteSink&) { unsupported("container diffs"); }
std::vector<std::string> StorageDriver::sweep_interrupted() { return {}; }

}  // namespace mcore
