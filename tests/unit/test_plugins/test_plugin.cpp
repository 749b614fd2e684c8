// The test plugin: a working in-memory resource driver ("memory"), compiled once per case of
// plugin_loader_test with a TEST_PLUGIN_* definition that breaks it in exactly one way.
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "mcore/config_section.hpp"
#include "mcore/error.hpp"
#include "mcore/resource_driver.hpp"
#include "mcore/storage_driver.hpp"

namespace {

using mcore::Error;

// Groups are map entries: enough to show that a driver created through the loader really works.
class MemoryResourceDriver final : public mcore::ResourceDriver {
 public:
  explicit MemoryResourceDriver(const mcore::HostContext& context) {
    mcore::ConfigSection config(context.config, context.config_path);
    max_groups_ = config.get_int("max_groups").value_or(16);
    config.reject_unknown_keys();
  }

  void create(const mcore::ResourceRequest& request) override {
    if (static_cast<std::int64_t>(groups_.size()) >= max_groups_) {
      throw Error("create group " + request.container_id + ": limit of " + std::to_string(max_groups_) +
                  " groups reached");
    }
    groups_[request.container_id].limits = request.limits;
  }
  void add_process(const std::string& container_id, pid_t pid) override {
    group(container_id).pids.push_back(pid);
  }
  mcore::ResourceStats stats(const std::string& container_id) const override {
    const Group& found = group(container_id);
    mcore::ResourceStats stats;
    stats.pids_current = found.pids.size();
    stats.memory_limit_bytes = static_cast<std::uint64_t>(found.limits.memory_bytes.value_or(0));
    return stats;
  }
  void freeze(const std::string& container_id) override {
    // A driver with a bug: an exception that is not mcore::Error, its what() in this library's code.
    if (container_id == "bug") throw std::runtime_error("the memory driver's own exception");
    group(container_id).frozen = true;
  }
  void thaw(const std::string& container_id) override { group(container_id).frozen = false; }
  void kill_all(const std::string& container_id, int /*signal*/) override {
    group(container_id).pids.clear();
  }
  void destroy(const std::string& container_id) override { groups_.erase(container_id); }
  std::vector<std::string> list() const override {
    std::vector<std::string> ids;
    for (const auto& entry : groups_) ids.push_back(entry.first);
    return ids;
  }
  std::string group_path(const std::string& container_id) const override { return "/memory/" + container_id; }

 private:
  struct Group {
    mcore::ResourceLimits limits;
    std::vector<pid_t> pids;
    bool frozen = false;
  };
  Group& group(const std::string& id) { return const_cast<Group&>(std::as_const(*this).group(id)); }
  const Group& group(const std::string& id) const {
    auto it = groups_.find(id);
    if (it == groups_.end()) throw Error("no group for container " + id);
    return it->second;
  }
  std::map<std::string, Group> groups_;
  std::int64_t max_groups_ = 16;
};

#ifdef TEST_PLUGIN_WRONG_TYPE
// Declares itself a resource plugin but builds a storage driver: the engine must notice.
class NotAResourceDriver final : public mcore::StorageDriver {
 public:
  mcore::RootfsPlan prepare_rootfs(const mcore::RootfsRequest&) override { return {}; }
  void release_rootfs(const std::string&) override {}
  std::vector<std::string> list_rootfs() const override { return {}; }
};
#endif

#ifdef TEST_PLUGIN_UNRESOLVED
// Defined nowhere: dlopen with RTLD_NOW must fail on it.
extern "C" int mcore_test_symbol_nobody_defines();
#endif

[[maybe_unused]] std::unique_ptr<mcore::Driver> create_driver(const mcore::HostContext& context) {
#ifdef TEST_PLUGIN_UNRESOLVED
  if (mcore_test_symbol_nobody_defines() != 0) return nullptr;
#endif
#ifdef TEST_PLUGIN_WRONG_TYPE
  (void)context;
  return std::make_unique<NotAResourceDriver>();
#else
  return std::make_unique<MemoryResourceDriver>(context);
#endif
}

#ifndef TEST_PLUGIN_NO_DESCRIPTOR
const mcore::PluginDescriptor descriptor = {
#ifdef TEST_PLUGIN_NEXT_ABI_MAJOR
    mcore::kAbiMajor + 1,
#else
    mcore::kAbiMajor,
#endif
#ifdef TEST_PLUGIN_NEXT_ABI_MINOR
    mcore::kAbiMinor + 1,
#else
    mcore::kAbiMinor,
#endif
#ifdef TEST_PLUGIN_NETWORK_KIND
    mcore::DriverKind::network,
#else
    mcore::DriverKind::resource,
#endif
    "memory",
    "0.0.1",
    "in-memory resource groups for the plugin loader's tests",
#ifdef TEST_PLUGIN_FOREIGN_BUILD_TAG
    "gcc 4.8.5; boost 1_53; spdlog 0.1; fmt 1; json 2.0",
#else
    MCORE_BUILD_TAG,
#endif
    create_driver,
};
#endif

}  // namespace

#ifndef TEST_PLUGIN_NO_DESCRIPTOR
MCORE_PLUGIN(descriptor)
#endif
