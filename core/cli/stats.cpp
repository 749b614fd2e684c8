// mcore stats [--no-stream] [-a] [CONTAINER...]: CPU, memory and pids of containers from the resource
// driver, like `docker stats`. CPU % is the group's CPU time over the wall time between two samples a
// second apart (Docker's cpu delta over system delta, times the CPUs, is the same ratio).
#include <unistd.h>

#include <iostream>
#include <map>
#include <thread>

#include "cli/container_args.hpp"
#include "cli/container_format.hpp"
#include "cli/container_views.hpp"
#include "cli/image_format.hpp"
#include "cli/output.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

struct Sample {
  ResourceStats stats;
  Clock::time_point taken;
};

// Docker shows the host's memory as the limit of a container that has none.
std::uint64_t host_memory_bytes() {
  return static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
         static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

class StatsView {
 public:
  StatsView(CliContext& context, const ParsedVerb& parsed)
      : context_(context),
        store_(context.engine().config().data_root),
        all_(parsed.options["all"].as<bool>()),
        no_trunc_(parsed.options["no-trunc"].as<bool>()) {
    // Named containers are fixed at the start, and an unknown name refused before anything is shown.
    for (const auto& name : parsed.positionals) named_.push_back(container_id_of(context, name));
  }

  // Samples every container shown; the rows compare with the previous call's samples.
  std::vector<std::vector<std::string>> refresh() {
    std::vector<std::vector<std::string>> table = {
        {"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS"}};
    std::map<std::string, Sample> current;
    for (const auto& record : containers()) {
      const auto sample = sample_of(record);
      if (!sample) {
        table.push_back(
            {short_id(record.id, no_trunc_), record.name, percent(0), "0B / 0B", percent(0), "0"});
        continue;
      }
      current[record.id] = *sample;
      table.push_back(row(record, *sample, previous_.find(record.id)));
    }
    previous_ = std::move(current);
    return table;
  }

 private:
  std::vector<engine::ContainerRecord> containers() const {
    const auto& config = context_.engine().config();
    std::vector<engine::ContainerRecord> shown;
    if (!named_.empty()) {
      for (const auto& id : named_) {
        if (auto record = store_.load(id))
          shown.push_back(engine::observe_container(config, std::move(*record)));
      }
      return shown;
    }
    for (auto& record : observed_containers(context_).records) {
      if (all_ || is_up(record)) shown.push_back(std::move(record));
    }
    return shown;
  }

  // The driver's numbers for a container that runs; nullopt for one that does not (or just stopped).
  std::optional<Sample> sample_of(const engine::ContainerRecord& record) {
    if (!is_up(record)) return std::nullopt;
    if (!resource_) resource_ = context_.engine().resource();  // loaded only once something runs
    try {
      return Sample{resource_->stats(record.id), Clock::now()};
    } catch (const Error&) {
      return std::nullopt;  // the group went away with the container
    }
  }

  std::vector<std::string> row(const engine::ContainerRecord& record, const Sample& sample,
                               std::map<std::string, Sample>::const_iterator previous) const {
    double cpu = 0;
    if (previous != previous_.end()) {
      const auto wall =
          std::chrono::duration_cast<std::chrono::nanoseconds>(sample.taken - previous->second.taken);
      const auto used = static_cast<double>(sample.stats.cpu_usage_ns) -
                        static_cast<double>(previous->second.stats.cpu_usage_ns);
      if (wall.count() > 0 && used > 0) cpu = used / static_cast<double>(wall.count()) * 100.0;
    }
    const auto usage = static_cast<double>(sample.stats.memory_usage_bytes);
    const auto limit = static_cast<double>(sample.stats.memory_limit_bytes ? sample.stats.memory_limit_bytes
                                                                           : host_memory_bytes());
    return {short_id(record.id, no_trunc_),
            record.name,
            percent(cpu),
            human_binary_size(usage) + " / " + human_binary_size(limit),
            percent(limit > 0 ? usage / limit * 100.0 : 0),
            std::to_string(sample.stats.pids_current)};
  }

  CliContext& context_;
  engine::ContainerStore store_;
  bool all_;
  bool no_trunc_;
  std::vector<std::string> named_;
  std::shared_ptr<ResourceDriver> resource_;
  std::map<std::string, Sample> previous_;
};

}  // namespace

int stats_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("all,a", po::bool_switch(), "show all containers (default shows just running)")
    ("no-stream", po::bool_switch(), "print one table and exit instead of refreshing every second")
    ("no-trunc", po::bool_switch(), "don't truncate output");
  // clang-format on
  auto parsed = parse_verb("stats", "[OPTIONS] [CONTAINER...]", verb_summary("stats"), options, args);
  if (!parsed) return 0;
  const bool stream = !parsed->options["no-stream"].as<bool>();

  StatsView view(context, *parsed);
  view.refresh();  // the first samples: CPU % needs two
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const auto table = view.refresh();
    // Docker clears the screen and starts at its top for each refresh; Ctrl-C ends the loop.
    if (stream) std::cout << "\033[2J\033[H";
    print_table(std::cout, table);
    std::cout.flush();
    if (!stream) return 0;
  }
}

}  // namespace mcore::cli
