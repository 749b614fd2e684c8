// mcore network SUBCOMMAND: create, ls, inspect, rm, prune — the network driver's networks, plus the
// two modes that are not networks (host, none), listed as Docker lists them.
#include <iostream>
#include <map>

#include "cli/output.hpp"
#include "cli/sub_verbs.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

std::vector<NetworkInfo> networks(engine::Engine& engine) { return engine.network()->list_networks(); }


const NetworkInfo& find_network(const std::vector<NetworkInfo>& all, const std::string& name) {
  for (const auto& network : all) {
    if (network.name == name || (!network.id.empty() && network.id.starts_with(name))) return network;
  }
  throw Error("network " + name + " not found", 0, "see `mcore network ls`");
}

std::string short_id(const NetworkInfo& network) { return network.id.substr(0, 12); }

int network_create(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("driver,d", po::value<std::string>(), "network driver (the configured one; default bridge)")
    ("subnet", po::value<std::string>(), "subnet in CIDR form, e.g. 10.89.0.0/24 (default: a free one)")
    ("gateway", po::value<std::string>(), "gateway address in the subnet (default: its first address)")
    ("opt,o", po::value<std::vector<std::string>>()->composing(), "driver option KEY=VALUE");
  // clang-format on
  auto parsed = parse_verb("network create", "[OPTIONS] NETWORK", "Create a network", options, args);
  if (!parsed) return 0;
  if (parsed->positionals.size() != 1) {
    throw Error("mcore network create needs exactly one network name", 0, "e.g. mcore network create backend");
  }
  engine::Engine& engine = context.engine();
  const std::string driver = engine.driver_name(DriverKind::network);
  if (parsed->options.count("driver") && parsed->options["driver"].as<std::string>() != driver) {
    throw Error("network driver " + parsed->options["driver"].as<std::string>() + " is not the configured one (" +
                    driver + ")",
                0, "leave out --driver, or select the driver with drivers.network in the config file");
  }
  NetworkSpec spec;
  spec.name = parsed->positionals.front();
  if (parsed->options.count("subnet")) spec.subnet = parsed->options["subnet"].as<std::string>();
  if (parsed->options.count("gateway")) spec.gateway = parsed->options["gateway"].as<std::string>();
  if (parsed->options.count("opt")) {
    for (const auto& option : parsed->options["opt"].as<std::vector<std::string>>()) {
      const auto equals = option.find('=');
      spec.options[option.substr(0, equals)] = equals == std::string::npos ? "" : option.substr(equals + 1);
    }
  }
  if (!spec.gateway.empty() && spec.subnet.empty()) {
    throw Error("--gateway needs --subnet", 0, "give the subnet the gateway belongs to");
  }
  if (engine::network_names(engine).count(spec.name)) {
    throw Error("network " + spec.name + " already exists", 0, "choose another name, or remove it first");
  }
  const NetworkInfo created = engine.network()->create_network(spec);
  std::cout << (created.id.empty() ? created.name : created.id) << '\n';
  return 0;
}

int network_ls(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("quiet,q", po::bool_switch(), "only display network names");
  add_format_option(options);
  auto parsed = parse_verb("network ls", "[OPTIONS]", "List networks", options, args);
  if (!parsed) return 0;
  expect_no_arguments("network ls", *parsed);
  const OutputFormat format = output_format("network ls", *parsed);
  const auto all = networks(context.engine());
  if (parsed->options["quiet"].as<bool>()) {
    for (const auto& network : all) std::cout << network.name << '\n';
    return 0;
  }
  if (format == OutputFormat::json) {
    nlohmann::json json = nlohmann::json::array();
    for (const auto& network : all) {
      json.push_back({{"ID", short_id(network)}, {"Name", network.name}, {"Driver", network.driver},
                      {"Subnet", network.subnet}, {"Gateway", network.gateway}});
    }
    std::cout << json.dump() << '\n';
    return 0;
  }
  std::vector<std::vector<std::string>> rows{{"NETWORK ID", "NAME", "DRIVER", "SUBNET", "GATEWAY"}};
  for (const auto& network : all) {
    rows.push_back({short_id(network), network.name, network.driver, network.subnet, network.gateway});
  }
  rows.push_back({"", "host", "host", "", ""});
  rows.push_back({"", "none", "null", "", ""});
  print_table(std::cout, rows);
  return 0;
}

// Docker's shape: Name, Id, Created, Driver, IPAM, Containers (by id: name and address), Options.
nlohmann::json inspect_json(const NetworkInfo& network, const std::map<std::string, std::string>& names) {
  nlohmann::json containers = nlohmann::json::object();
  for (const auto& [id, address] : network.containers) {
    auto name = names.find(id);
    containers[id] = {{"Name", name != names.end() ? name->second : ""}, {"IPv4Address", address}};
  }
  return {{"Name", network.name},
          {"Id", network.id},
          {"Created", network.created},
          {"Driver", network.driver},
          {"IPAM", {{"Driver", "default"}, {"Config", {{{"Subnet", network.subnet}, {"Gateway", network.gateway}}}}}},
          {"Containers", containers},
          {"Options", network.details}};
}

int network_inspect(CliContext& context, const std::vector<std::string>& args) {
  auto parsed = parse_verb("network inspect", "NETWORK [NETWORK...]", "Display detailed information on networks",
                           po::options_description("Options"), args);
  if (!parsed) return 0;
  if (parsed->positionals.empty()) throw Error("mcore network inspect needs a network name", 0, "see `mcore network ls`");
  engine::Engine& engine = context.engine();
  const auto all = networks(engine);
  std::map<std::string, std::string> names;
  for (const auto& record : engine::ContainerStore(engine.config().data_root).list().records) names[record.id] = record.name;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : parsed->positionals) out.push_back(inspect_json(find_network(all, name), names));
  std::cout << out.dump(4) << '\n';
  return 0;
}

int network_rm(CliContext& context, const std::vector<std::string>& args) {
  auto parsed = parse_verb("network rm", "NETWORK [NETWORK...]", "Remove one or more networks",
                           po::options_description("Options"), args);
  if (!parsed) return 0;
  if (parsed->positionals.empty()) throw Error("mcore network rm needs a network name", 0, "see `mcore network ls`");
  engine::Engine& engine = context.engine();
  // Leases of containers that crashed without a record would keep the network "in use" forever.
  engine::prune_network_leftovers(engine, engine::ContainerStore(engine.config().data_root));
  const auto all = networks(engine);
  for (const auto& name : parsed->positionals) {
    const NetworkInfo& network = find_network(all, name);
    engine.network()->remove_network(network.name);
    std::cout << name << '\n';
  }
  return 0;
}

int network_prune(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("force,f", po::bool_switch(), "do not prompt for confirmation");
  auto parsed = parse_verb("network prune", "[OPTIONS]", "Remove all unused networks", options, args);
  if (!parsed) return 0;
  expect_no_arguments("network prune", *parsed);
  if (!confirmed(parsed->options["force"].as<bool>(), "This will remove all networks not used by at least one container.")) {
    return 0;
  }
  engine::Engine& engine = context.engine();
  engine::prune_network_leftovers(engine, engine::ContainerStore(engine.config().data_root));
  std::vector<std::string> removed;
  for (const auto& network : networks(engine)) {
    if (network.is_default || !network.containers.empty()) continue;
    engine.network()->remove_network(network.name);
    removed.push_back(network.name);
  }
  if (!removed.empty()) {
    std::cout << "Deleted Networks:\n";
    for (const auto& name : removed) std::cout << name << '\n';
  }
  return 0;
}

}  // namespace

int network_main(CliContext& context, const std::vector<std::string>& args) {
  static const std::vector<SubVerb> sub_verbs = {
      {{"create"}, "Create a network", network_create},
      {{"inspect"}, "Display detailed information on networks", network_inspect},
      {{"ls", "list"}, "List networks", network_ls},
      {{"prune"}, "Remove all unused networks", network_prune},
      {{"rm", "remove"}, "Remove one or more networks", network_rm},
  };
  return run_sub_verb("network", sub_verbs, context, args);
}

}  // namespace mcore::cli
