#include "engine/container/container_boot.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include "engine/container/container_control.hpp"
#include "engine/container/container_exit.hpp"
#include "engine/container/container_liveness.hpp"
#include "engine/container/container_prune.hpp"
#include "engine/container/container_store.hpp"
#include "engine/deploy/deployment.hpp"

namespace mcore::engine {
namespace {

bool claims_life(ContainerState state) {
  return state == ContainerState::running || state == ContainerState::paused || state == ContainerState::restarting;
}

std::string label_of(const ContainerRecord& record, const char* key) {
  const auto found = record.spec.labels.find(key);
  return found == record.spec.labels.end() ? "" : found->second;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = std::min(text.find(',', at), text.size());
    if (end > at) parts.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return parts;
}

// Creation order, then each deployment's members rearranged, in the places they hold, so that a
// service comes after those it depends on.
void order_for_start(std::vector<ContainerRecord>& records) {
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.created < b.created; });
  std::map<std::string, std::vector<std::size_t>> places;  // deployment -> indexes of its members
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::string deployment = label_of(records[i], kDeploymentLabel);
    if (!deployment.empty()) places[deployment].push_back(i);
  }
  for (const auto& [deployment, indexes] : places) {
    std::vector<std::string> services;
    std::map<std::string, std::vector<std::string>> depends_on;
    std::map<std::string, ContainerRecord> by_service;
    for (std::size_t index : indexes) {
      const std::string service = label_of(records[index], kServiceLabel);
      services.push_back(service);
      depends_on[service] = split_commas(label_of(records[index], kDependsOnLabel));
      by_service.emplace(service, records[index]);
    }
    const std::vector<std::string> ordered = dependency_order(services, depends_on);
    for (std::size_t k = 0; k < indexes.size(); ++k) records[indexes[k]] = by_service.at(ordered[k]);
  }
}

}  // namespace

std::vector<std::string> dependency_order(const std::vector<std::string>& services,
                                          const std::map<std::string, std::vector<std::string>>& depends_on) {
  std::vector<std::string> ordered;
  std::set<std::string> placed, visiting;
  const std::set<std::string> known(services.begin(), services.end());
  // Depth first: a service's dependencies before it; a cycle (a file the validator let through) is cut.
  std::function<void(const std::string&)> place = [&](const std::string& service) {
    if (placed.contains(service) || visiting.contains(service)) return;
    visiting.insert(service);
    if (const auto found = depends_on.find(service); found != depends_on.end()) {
      for (const auto& needed : found->second) {
        if (known.contains(needed)) place(needed);
      }
    }
    visiting.erase(service);
    placed.insert(service);
    ordered.push_back(service);
  };
  for (const auto& service : services) place(service);
  return ordered;
}

BootReport boot_containers(Engine& engine) {
  BootReport report;
  ContainerStore store(engine.config().data_root);
  const ContainerListing listing = store.list();
  std::vector<ContainerRecord> to_start;
  for (const auto& listed : listing.records) {
    const std::string name = listed.name.empty() ? listed.id.substr(0, 12) : listed.name;
    try {
      FileLock lock = store.lock(listed.id);
      auto stored = store.load(listed.id);
      if (!stored || supervisor_alive(runtime_paths(engine.config(), stored->id))) continue;
      bool start = false;
      if (claims_life(stored->state)) {
        // Lost while running: its exit is recorded (255 unless its supervisor wrote one), its cgroup and
        // network attachment go, and its policy decides as for any exit.
        start = should_restart(*stored, observe_container(engine.config(), *stored).exit_code);
        auto repaired = repair_container(engine, store, *stored);
        if (!repaired) continue;  // --rm: removed with its exit
        if (!start) report.recorded.push_back(name);
      } else if (stored->state == ContainerState::exited) {
        const auto policy = stored->spec.restart.kind;
        start = policy == RestartPolicy::Kind::always ||
                (policy == RestartPolicy::Kind::unless_stopped && !stored->stop_requested);
      }
      if (start) to_start.push_back(*store.load(listed.id));
    } catch (const Error& error) {
      report.failed.push_back(name + ": " + error.what());
    }
  }
  std::set<std::string> every;  // boot removes no container: all keep what they hold
  for (const auto& id : listing.ids()) every.insert(id);
  try {
    report.swept = sweep_leftovers(engine, every);
  } catch (const Error& error) {
    report.failed.push_back(std::string("sweeping leftovers: ") + error.what());
  }
  order_for_start(to_start);
  for (const auto& record : to_start) {
    try {
      const LaunchReport launched = start_container(engine, record.id);
      if (launched.failure) {
        report.failed.push_back(record.name + ": " + launched.failure->what());
      } else {
        report.started.push_back(record.name);
      }
    } catch (const Error& error) {
      report.failed.push_back(record.name + ": " + error.what());
    }
  }
  return report;
}

}  // namespace mcore::engine
