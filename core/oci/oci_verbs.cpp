#include "oci/oci_verbs.hpp"

#include <fcntl.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iostream>

#include "engine/api/oci.hpp"
#include "mcore/atomic_file.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"

namespace mcore::oci {

namespace po = boost::program_options;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string required(const po::variables_map& values, const char* name, const char* verb) {
  if (!values.count(name)) {
    throw Error(std::string(verb) + ": missing the container " + name, 0,
                std::string("see 'mcore-oci ") + verb + " --help'");
  }
  return values[name].as<std::string>();
}

void add_create_options(po::options_description& options) {
  // clang-format off
  options.add_options()
    ("bundle,b", po::value<std::string>()->default_value(".")->value_name("DIR"), "the bundle: config.json and the root file system")
    ("pid-file", po::value<std::string>()->value_name("FILE"), "write the init's PID here (digits only)")
    ("console-socket", po::value<std::string>()->value_name("SOCKET"), "where the terminal's master goes (process.terminal)")
    ("no-pivot", po::bool_switch(), "not supported: mcore-oci always uses pivot_root")
    ("no-new-keyring", po::bool_switch(), "keep the caller's session keyring (mcore-oci never makes one)")
    ("preserve-fds", po::value<unsigned>()->default_value(0)->value_name("N"), "pass descriptors 3 .. 3+N-1 to the command too");
  // clang-format on
}

// --preserve-fds N: descriptors 3 .. 3+N-1, each checked to be open.
int preserved_fds(const po::variables_map& values) {
  const unsigned preserved = values["preserve-fds"].as<unsigned>();
  for (unsigned fd = 3; fd < 3 + preserved; ++fd) {
    if (::fcntl(static_cast<int>(fd), F_GETFD) < 0) {
      throw Error("--preserve-fds " + std::to_string(preserved) + ": descriptor " + std::to_string(fd) + " is not open", 0,
                  "pass that many descriptors after stdio");
    }
  }
  return static_cast<int>(preserved);
}

engine::OciCreateOptions create_options(const po::variables_map& values, const char* verb) {
  engine::OciCreateOptions create;
  create.id = required(values, "id", verb);
  create.bundle = values["bundle"].as<std::string>();
  if (values.count("pid-file")) create.pid_file = values["pid-file"].as<std::string>();
  if (values.count("console-socket")) create.console_socket = values["console-socket"].as<std::string>();
  if (values["no-pivot"].as<bool>()) {
    throw Error("--no-pivot is not supported: mcore-oci always uses pivot_root", 0, "drop the flag");
  }
  create.preserve_fds = preserved_fds(values);
  return create;
}

void print_table(const std::vector<json>& states) {
  std::printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
  for (const auto& state : states) {
    std::printf("%-12s %-8d %-10s %-40s %-30s %s\n", state["id"].get<std::string>().c_str(), state["pid"].get<int>(),
                state["status"].get<std::string>().c_str(), state["bundle"].get<std::string>().c_str(),
                state["created"].get<std::string>().c_str(), "root");
  }
}

// /proc/PID/cmdline with spaces for its NULs ("" once the process is gone).
std::string command_line(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/cmdline");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::replace(text.begin(), text.end(), '\0', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

std::vector<OciVerb> make_verbs() {
  std::vector<OciVerb> verbs;
  verbs.push_back({"create", "[OPTIONS] ID", "create a container from a bundle; it waits for start", add_create_options, {"id"},
                   [](engine::OciRuntime& runtime, const po::variables_map& values, const std::vector<std::string>&) {
                     runtime.create(create_options(values, "create"));
                     return 0;
                   }});
  verbs.push_back({"run", "[OPTIONS] ID", "create and start a container, and wait for it (or --detach)",
                   [](po::options_description& options) {
                     add_create_options(options);
                     options.add_options()("detach,d", po::bool_switch(), "return once it runs");
                   },
                   {"id"},
                   [](engine::OciRuntime& runtime, const po::variables_map& values, const std::vector<std::string>&) {
                     const auto create = create_options(values, "run");
                     if (!values["detach"].as<bool>()) return runtime.run(create);
                     runtime.create(create);
                     runtime.start(create.id);
                     return 0;
                   }});
  verbs.push_back({"exec", "[OPTIONS] ID [COMMAND [ARG...]]", "run one more process in a running container",
                   [](po::options_description& options) {
                     // clang-format off
                     options.add_options()
                       ("process,p", po::value<std::string>()->value_name("FILE"), "a runtime-spec Process document (instead of the command and the options below)")
                       ("tty,t", po::bool_switch(), "a terminal (needs --console-socket)")
                       ("cwd", po::value<std::string>()->value_name("DIR"), "working directory in the container")
                       ("env,e", po::value<std::vector<std::string>>()->value_name("KEY=VALUE"), "add to the environment")
                       ("user,u", po::value<std::string>()->value_name("UID[:GID]"), "run as this user")
                       ("additional-gids,g", po::value<std::vector<gid_t>>()->value_name("GID"), "additional groups")
                       ("cap,c", po::value<std::vector<std::string>>()->value_name("CAP"), "add a capability")
                       ("no-new-privs", po::bool_switch(), "set no_new_privs")
                       ("detach,d", po::bool_switch(), "return once the process runs")
                       ("pid-file", po::value<std::string>()->value_name("FILE"), "write the process's PID here")
                       ("console-socket", po::value<std::string>()->value_name("SOCKET"), "where the terminal's master goes")
                       ("preserve-fds", po::value<unsigned>()->default_value(0)->value_name("N"), "pass descriptors 3 .. 3+N-1 to the process too");
                     // clang-format on
                   },
                   {"id"},
                   [](engine::OciRuntime& runtime, const po::variables_map& values, const std::vector<std::string>& rest) {
                     engine::OciExecOptions exec;
                     exec.id = required(values, "id", "exec");
                     exec.args = rest;
                     if (values.count("process")) exec.process_file = values["process"].as<std::string>();
                     exec.tty = values["tty"].as<bool>();
                     if (values.count("cwd")) exec.cwd = values["cwd"].as<std::string>();
                     if (values.count("env")) exec.env = values["env"].as<std::vector<std::string>>();
                     if (values.count("user")) exec.user = values["user"].as<std::string>();
                     if (values.count("additional-gids")) exec.additional_gids = values["additional-gids"].as<std::vector<gid_t>>();
                     if (values.count("cap")) exec.caps = values["cap"].as<std::vector<std::string>>();
                     exec.no_new_privileges = values["no-new-privs"].as<bool>();
                     exec.detach = values["detach"].as<bool>();
                     if (values.count("pid-file")) exec.pid_file = values["pid-file"].as<std::string>();
                     if (values.count("console-socket")) exec.console_socket = values["console-socket"].as<std::string>();
                     exec.preserve_fds = preserved_fds(values);
                     return runtime.exec(exec);
                   },
                   true});
  verbs.push_back({"start", "ID", "run the command of a created container", {}, {"id"},
                   [](engine::OciRuntime& runtime, const po::variables_map& values, const std::vector<std::string>&) {
                     runtime.start(required(values, "id", "start"));
                     return 0;
                   }});
  verbs.push_back({"state", "ID", "print the runtime-spec state of a container", {}, {"id"},
                   [](engine::OciRuntime& runtime, const po::variables_map& values, const std::vector<std::string>&) {
                     std::cout << runtime.state(required(values, "id", "state")).dump(2) << std::endl;
                     return 0;
                   }});
  verbs.push_back({"kill", "[OPTIONS] ID [SIGNAL]", "send a signal (default SIGTERM) to a container's init",
                   [](po::options_description& options) {
                     options.add_options()("all,a", po::bool_switch(), "to every process in the container");
                   },
                   {"id", "signal"},
                   [](engine::OciRuntime& runtime, const po::variables_map& values, const std::vector<std::string>&) {
                     const int signal =
                         values.count("signal") ? engine::parse_signal(values["signal"].as<std::string>()) : SIGTERM;
                     runtime.kill(required(values, "id", "kill"), signal, values["all"].as<bool>());
                     return 0;
                   }});
  verbs.push_back({"delete", "[OPTIONS] ID", "remove a container (a running one only with --force)",
                   [](po::options_description& options) {
                     options.add_options()("force,f", po::bool_switch(), "kill it first when it runs");
                   },
                   {"id"},
                   [](engine::OciRuntime& runtime, const po::variables_map& values, const std::vector<std::string>&) {
                     runtime.remove(required(values, "id", "delete"), values["force"].as<bool>());
                     return 0;
                   }});
  verbs.push_back({"list", "[OPTIONS]", "list the containers under --root",
                   [](po::options_description& options) {
                     // clang-format off
                     options.add_options()
                       ("format,f", po::value<std::string>()->default_value("table")->value_name("table|json"), "output format")
                       ("quiet,q", po::bool_switch(), "print the ids only");
                     // clang-format on
                   },
                   {},
                   [](engine::OciRuntime& runtime, const po::variables_map& values, const std::vector<std::string>&) {
                     const auto states = runtime.list();
                     const std::string format = values["format"].as<std::string>();
                     if (values["quiet"].as<bool>()) {
                       for (const auto& state : states) std::cout << state["id"].get<std::string>() << '\n';
                     } else if (format == "json") {
                       std::cout << json(states).dump() << std::endl;
                     } else if (format == "table") {
                       print_table(states);
                     } else {
                       throw Error("--format: unknown format \"" + format + "\"", 0, "use table or json");
                     }
                     return 0;
                   }});
  verbs.push_back({"ps", "[OPTIONS] ID", "list the processes of a container",
                   [](po::options_description& options) {
                     options.add_options()("format,f", po::value<std::string>()->default_value("table")->value_name("table|json"),
                                           "json: an array of host PIDs");
                   },
                   {"id"},
                   [](engine::OciRuntime& runtime, const po::variables_map& values, const std::vector<std::string>&) {
                     const auto pids = runtime.processes(required(values, "id", "ps"));
                     const std::string format = values["format"].as<std::string>();
                     if (format == "json") {
                       std::cout << json(pids).dump() << std::endl;
                     } else if (format == "table") {
                       std::printf("%-8s %s\n", "PID", "CMD");
                       for (pid_t pid : pids) std::printf("%-8d %s\n", pid, command_line(pid).c_str());
                     } else {
                       throw Error("--format: unknown format \"" + format + "\"", 0, "use table or json");
                     }
                     return 0;
                   }});
  verbs.push_back({"pause", "ID", "freeze every process of a container", {}, {"id"},
                   [](engine::OciRuntime& runtime, const po::variables_map& values, const std::vector<std::string>&) {
                     runtime.pause(required(values, "id", "pause"));
                     return 0;
                   }});
  verbs.push_back({"resume", "ID", "thaw a paused container", {}, {"id"},
                   [](engine::OciRuntime& runtime, const po::variables_map& values, const std::vector<std::string>&) {
                     runtime.resume(required(values, "id", "resume"));
                     return 0;
                   }});
  verbs.push_back({"update", "--resources FILE|- ID", "change the resource limits of a container",
                   [](po::options_description& options) {
                     options.add_options()("resources,r", po::value<std::string>()->value_name("FILE"),
                                           "a runtime-spec LinuxResources document; - reads stdin");
                   },
                   {"id"},
                   [](engine::OciRuntime& runtime, const po::variables_map& values, const std::vector<std::string>&) {
                     const std::string id = required(values, "id", "update");
                     if (!values.count("resources")) {
                       throw Error("update: give the new limits with --resources FILE (or - for stdin)", 0,
                                   "runc's single-limit flags (--memory ...) are not supported");
                     }
                     const std::string file = values["resources"].as<std::string>();
                     std::string text;
                     if (file == "-") {
                       text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
                     } else {
                       text = read_file(file);
                     }
                     json resources;
                     try {
                       resources = json::parse(text);
                     } catch (const json::parse_error& error) {
                       throw Error("--resources: not valid JSON: " + std::string(error.what()));
                     }
                     runtime.update(id, resources);
                     return 0;
                   }});
  verbs.push_back({"spec", "[OPTIONS]", "write a default config.json into the bundle",
                   [](po::options_description& options) {
                     options.add_options()("bundle,b", po::value<std::string>()->default_value(".")->value_name("DIR"),
                                           "the bundle directory");
                   },
                   {},
                   [](engine::OciRuntime&, const po::variables_map& values, const std::vector<std::string>&) {
                     const fs::path file = fs::path(values["bundle"].as<std::string>()) / "config.json";
                     std::error_code error;
                     if (fs::exists(file, error)) throw Error("File " + file.string() + " exists", 0, "remove it first");
                     write_file_atomic(file, engine::default_runtime_spec().dump(2) + "\n", {.mode = 0644});
                     return 0;
                   }});
  verbs.push_back({"features", "", "print the runtime-spec features document", {}, {},
                   [](engine::OciRuntime&, const po::variables_map&, const std::vector<std::string>&) {
                     std::cout << engine::oci_features().dump(2) << std::endl;
                     return 0;
                   }});
  return verbs;
}

}  // namespace

const std::vector<OciVerb>& all_oci_verbs() {
  static const std::vector<OciVerb> verbs = make_verbs();
  return verbs;
}

}  // namespace mcore::oci
