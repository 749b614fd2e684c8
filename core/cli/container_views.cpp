#include "cli/container_views.hpp"

#include <algorithm>

#include "cli/container_args.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {

engine::ContainerRecord observed_container(CliContext& context, const std::string& reference) {
  const auto& config = context.engine().config();
  auto record = engine::ContainerStore(config.data_root).load(container_id_of(context, reference));
  if (!record) {
    throw VerbError(
        Error("no such container: " + reference, 0, "it was removed meanwhile; see `mcore ps -a`"),
        kExitRefused);
  }
  return engine::observe_container(config, std::move(*record));
}

engine::ContainerListing observed_containers(CliContext& context) {
  const auto& config = context.engine().config();
  auto listing = engine::ContainerStore(config.data_root).list();
  auto& records = listing.records;
  for (auto& record : records) record = engine::observe_container(config, std::move(record));
  // Creation times are all UTC with nanoseconds, so they sort as text.
  std::sort(records.begin(), records.end(),
            [](const auto& a, const auto& b) { return a.created > b.created; });
  return listing;
}

}  // namespace mcore::cli
