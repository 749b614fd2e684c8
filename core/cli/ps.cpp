// mcore ps: the containers, like `docker ps`. It reads the records once and asks only the supervisors'
// liveness locks: no plugin is loaded and no process started, so it stays fast with many containers.
#include <iostream>
#include <set>

#include "cli/container_filter.hpp"
#include "cli/container_format.hpp"
#include "cli/container_views.hpp"
#include "cli/image_format.hpp"
#include "cli/output.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/containers.hpp"
#include "engine/api/deployments.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

ContainerFilter parse_filter(const po::variables_map& options) {
  try {
    auto filters = options.count("filter") ? options["filter"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (options.count("deployment")) {
      filters.push_back(std::string("label=") + engine::kDeploymentLabel + "=" + options["deployment"].as<std::string>());
    }
    return ContainerFilter::parse(filters);
  } catch (const Error& error) {
    throw VerbError(error, kExitRefused);  // Docker's daemon refuses a bad filter: exit 1
  }
}

// What ps shows of a container whose record cannot be read: its id, the name pointing at it, whether its
// supervisor lives, and why the record cannot be read (as its error).
engine::ContainerRecord unreadable_row(const engine::Config& config, const engine::ContainerStore& store,
                                       const engine::UnreadableRecord& damaged) {
  engine::ContainerRecord row;
  row.id = damaged.id;
  row.name = store.name_of(damaged.id);
  row.state = engine::supervisor_alive(engine::runtime_paths(config, damaged.id)) ? engine::ContainerState::running
                                                                                    : engine::ContainerState::dead;
  row.error = damaged.reason;
  return row;
}

}  // namespace

int ps_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("all,a", po::bool_switch(), "show all containers (default shows just running)")
    ("quiet,q", po::bool_switch(), "only display container IDs")
    ("no-trunc", po::bool_switch(), "don't truncate output")
    ("filter,f", po::value<std::vector<std::string>>()->composing()->value_name("KEY=VALUE"),
     "filter output: status=, name=, id=, exited=, label= (repeatable)")
    ("deployment", po::value<std::string>(), "only the containers of this deployment (mcore up)");
  // clang-format on
  add_format_option(options);
  auto parsed = parse_verb("ps", "[OPTIONS]", verb_summary("ps"), options, args);
  if (!parsed) return 0;
  expect_no_arguments("ps", *parsed);
  const OutputFormat format = output_format("ps", *parsed);
  const bool quiet = parsed->options["quiet"].as<bool>();
  const bool no_trunc = parsed->options["no-trunc"].as<bool>();
  const ContainerFilter filter = parse_filter(parsed->options);
  const bool all = parsed->options["all"].as<bool>() || filter.lists_stopped();

  auto listing = observed_containers(context);
  std::vector<engine::ContainerRecord> shown;
  for (auto& record : listing.records) {
    if ((all || is_up(record)) && filter.matches(record)) shown.push_back(std::move(record));
  }
  // Records that cannot be read are shown, never hidden: as "unreadable", with the name that points at
  // them, last. A running one shows without -a too.
  const engine::ContainerStore store(context.engine().config().data_root);
  std::set<std::string> unreadable;
  for (const auto& damaged : listing.unreadable) {
    engine::ContainerRecord row = unreadable_row(context.engine().config(), store, damaged);
    if ((all || is_up(row)) && filter.matches(row)) {
      unreadable.insert(row.id);
      shown.push_back(std::move(row));
    }
  }
  auto status = [&](const engine::ContainerRecord& record, Clock::time_point now) {
    if (!unreadable.count(record.id)) return container_status(record, now);
    return std::string(is_up(record) ? "Unreadable record (running)" : "Unreadable record");
  };

  if (quiet) {
    for (const auto& record : shown) std::cout << short_id(record.id, no_trunc) << '\n';
    return 0;
  }
  const auto now = Clock::now();
  if (format == OutputFormat::json) {
    auto out = nlohmann::json::array();
    for (const auto& record : shown) {
      out.push_back({{"ID", short_id(record.id, no_trunc)},
                     {"Image", container_image(record.spec, no_trunc)},
                     {"Command", container_command(record.spec.args, no_trunc)},
                     {"CreatedAt", record.created},
                     {"RunningFor", container_created(record, now)},
                     {"Ports", container_ports(record)},
                     {"State", unreadable.count(record.id) ? "unreadable" : to_string(record.state)},
                     {"Status", status(record, now)},
                     {"Names", record.name}});
    }
    std::cout << out.dump(2) << '\n';
    return 0;
  }
  std::vector<std::vector<std::string>> table = {
      {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
  for (const auto& record : shown) {
    table.push_back({short_id(record.id, no_trunc), container_image(record.spec, no_trunc),
                     container_command(record.spec.args, no_trunc), container_created(record, now),
                     status(record, now), container_ports(record), record.name});
  }
  print_table(std::cout, table);
  return 0;
}

}  // namespace mcore::cli
