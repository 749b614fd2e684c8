#include <iostream>

#include "cli/output.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "mcore/error.hpp"

namespace mcore::cli {

namespace {

constexpr DriverKind kRoles[] = {DriverKind::storage, DriverKind::network, DriverKind::resource,
                                 DriverKind::registry};

// Nothing runs without storage and resource drivers, and loading them is what validates their config
// sections: their failure fails `mcore info`. Network and registry drivers may legitimately be absent.
bool essential(DriverKind kind) { return kind == DriverKind::storage || kind == DriverKind::resource; }

struct RoleReport {
  std::string role;
  std::string driver;  // "cgroup-v2 (auto)" when the config said "auto"
  std::string plugin;  // the plugin file, "" when none was found
  std::string version;
  std::string status;  // "ok" or "not available: <why>"
};

void load_driver(engine::Engine& engine, DriverKind kind) {
  switch (kind) {
    case DriverKind::storage: engine.storage(); return;
    case DriverKind::network: engine.network(); return;
    case DriverKind::resource: engine.resource(); return;
    case DriverKind::registry: engine.registry(); return;
  }
}

RoleReport report_role(engine::Engine& engine, DriverKind kind, std::optional<Error>& essential_failure) {
  const auto& config = engine.config();
  RoleReport report;
  report.role = std::string(to_string(kind));
  try {
    const std::string name = engine.driver_name(kind);
    report.driver = name;
    if (auto configured = config.drivers.find(kind);
        configured != config.drivers.end() && configured->second != name) {
      report.driver += " (" + configured->second + ")";
    }
    if (name == engine::Engine::kUngroupedResources) {
      load_driver(engine, kind);
      report.plugin = "built in";
      report.version = "-";
      report.status = "ok";
      return report;
    }
    std::optional<std::filesystem::path> explicit_path;
    if (auto path = config.plugin_paths.find(kind); path != config.plugin_paths.end())
      explicit_path = path->second;
    const auto file = engine.plugins().locate(kind, name, explicit_path);
    report.plugin = file.string();
    load_driver(engine, kind);
    report.version = engine.plugins().inspect(file).version;
    report.status = "ok";
  } catch (const Error& error) {
    report.status =
        "not available: " + std::string(error.what()) + (error.hint().empty() ? "" : "; " + error.hint());
    if (essential(kind) && !essential_failure) essential_failure = error;
  }
  return report;
}

const char* yes_no(bool value) { return value ? "yes" : "no"; }

// The network driver's default network: its bridge and the subnet it got, and why when that was not
// the first choice (a host route took it). Null when no network driver is available.
nlohmann::json default_network(engine::Engine& engine) {
  try {
    for (const auto& network : engine.network()->list_networks()) {
      if (!network.is_default) continue;
      nlohmann::json out = {{"name", network.name},
                            {"driver", network.driver},
                            {"subnet", network.subnet},
                            {"gateway", network.gateway},
                            {"details", network.details}};
      if (!network.subnet_note.empty()) out["subnet_note"] = network.subnet_note;
      return out;
    }
  } catch (const Error&) {
    // The driver's row in the table says why it is not available.
  }
  return nullptr;
}

void print_json(engine::Engine& engine, const std::vector<RoleReport>& roles) {
  const auto& host = engine.host();
  nlohmann::json out;
  out["config_file"] =
      engine.config().source.empty() ? nlohmann::json() : nlohmann::json(engine.config().source.string());
  out["plugin_dirs"] = nlohmann::json::array();
  for (const auto& dir : engine.plugins().search_dirs()) out["plugin_dirs"].push_back(dir.string());
  out["drivers"] = nlohmann::json::object();
  for (const auto& role : roles) {
    out["drivers"][role.role] = {
        {"driver", role.driver}, {"plugin", role.plugin}, {"version", role.version}, {"status", role.status}};
  }
  out["host"] = {{"kernel", host.kernel_release},
                 {"cgroup_mode", engine::to_string(host.cgroup_mode)},
                 {"overlay", host.overlay_supported},
                 {"cgroup_namespace", host.cgroup_namespace},
                 {"seccomp", host.seccomp_supported}};
  out["rootless"] = nullptr;
  if (const auto rootless = engine.rootless_facts()) {
    out["rootless"] = {{"uid", rootless->uid},
                       {"uid_map", rootless->uid_map},
                       {"gid_map", rootless->gid_map},
                       {"delegated_cgroup", rootless->delegated_cgroup}};
  }
  out["default_network"] = default_network(engine);
  out["config"] = engine.config().to_json();
  std::cout << out.dump(2) << '\n';
}

void print_text(engine::Engine& engine, const std::vector<RoleReport>& roles) {
  const auto& config = engine.config();
  const auto& host = engine.host();
  std::cout << "Config file: " << (config.source.empty() ? "none, defaults apply" : config.source.string())
            << '\n';
  std::cout << "Plugin directories (in search order):\n";
  for (const auto& dir : engine.plugins().search_dirs()) std::cout << "  " << dir.string() << '\n';

  std::cout << "\nDrivers:\n";
  std::vector<std::vector<std::string>> rows = {{"ROLE", "DRIVER", "VERSION", "PLUGIN", "STATUS"}};
  for (const auto& role : roles)
    rows.push_back({role.role, role.driver, role.version, role.plugin, role.status});
  print_table(std::cout, rows, "  ");

  std::cout << "\nHost:\n";
  print_table(std::cout,
              {{"Kernel:", host.kernel_release},
               {"Cgroup mode:", engine::to_string(host.cgroup_mode)},
               {"Overlay:", yes_no(host.overlay_supported)},
               {"Cgroup namespace:", yes_no(host.cgroup_namespace)},
               {"Seccomp:", yes_no(host.seccomp_supported)}},
              "  ");

  std::cout << "\nRootless:\n";
  if (const auto rootless = engine.rootless_facts()) {
    const auto joined = [](const std::vector<std::string>& lines) {
      std::string text;
      for (const auto& line : lines) text += (text.empty() ? "" : ", ") + line;
      return text;
    };
    print_table(
        std::cout,
        {{"Rootless:", "yes, as uid " + std::to_string(rootless->uid)},
         {"Uid map:", joined(rootless->uid_map)},
         {"Gid map:", joined(rootless->gid_map)},
         {"Network:",
          config.drivers.at(DriverKind::network) + " (default network " + config.default_network + ")"},
         {"Cgroups:", !rootless->delegated_cgroup.empty()
                          ? "delegated cgroup v2 group " + rootless->delegated_cgroup + ": limits work"
                          : "none delegated: containers run in the user's cgroup, limits are refused"}},
        "  ");
  } else {
    print_table(std::cout, {{"Rootless:", "no (run as root)"}}, "  ");
  }

  if (auto network = default_network(engine); !network.is_null()) {
    std::cout << "\nDefault network:\n";
    std::vector<std::vector<std::string>> lines = {
        {"Name:", network["name"]}, {"Driver:", network["driver"]}, {"Subnet:", network["subnet"]},
        {"Gateway:", network["gateway"]}};
    // The driver's own facts (a bridge's name, its MTU), shown as they come.
    for (const auto& [key, value] : network["details"].items()) {
      lines.push_back({key + ":", value.is_string() ? value.get<std::string>() : value.dump()});
    }
    if (network.contains("subnet_note")) {
      lines.push_back({"Subnet chosen because:", network["subnet_note"].get<std::string>() + ", so another was picked"});
    }
    print_table(std::cout, lines, "  ");
  }

  std::cout << "\nConfiguration:\n" << config.to_json().dump(2) << '\n';
}

}  // namespace

int info_main(CliContext& context, const std::vector<std::string>& args) {
  boost::program_options::options_description options("Options");
  add_format_option(options);
  auto parsed = parse_verb("info", "[OPTIONS]", verb_summary("info"), options, args);
  if (!parsed) return 0;
  expect_no_arguments("info", *parsed);
  const OutputFormat format = output_format("info", *parsed);

  auto& engine = context.engine();
  std::optional<Error> essential_failure;
  std::vector<RoleReport> roles;
  for (DriverKind kind : kRoles) roles.push_back(report_role(engine, kind, essential_failure));

  if (format == OutputFormat::json) {
    print_json(engine, roles);
  } else {
    print_text(engine, roles);
  }
  // The report is printed first: it is what helps to fix the failure.
  std::cout.flush();
  if (essential_failure) throw *essential_failure;
  return 0;
}

}  // namespace mcore::cli
