// mcore logs [-f] [-n N|all] [-t] [--since T] CONTAINER: the container's json-file log, as docker logs
// shows it: stdout entries on stdout, stderr entries on stderr.
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <map>

#include "cli/container_args.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/containers.hpp"
#include "engine/api/deployments.hpp"
#include "mcore/fd_io.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

po::options_description logs_options() {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("follow,f", po::bool_switch(), "follow log output until the container stops")
    ("tail,n", po::value<std::string>()->default_value("all"), "number of lines to show from the end of the logs, or all")
    ("timestamps,t", po::bool_switch(), "show timestamps")
    ("since", po::value<std::string>(), "show logs since a time (2026-11-23T10:00:00Z) or a duration ago (42m)")
    ("deployment", po::value<std::string>(), "the logs of a deployment's services (mcore up), each line after its service's name");
  // clang-format on
  return options;
}

// "all" (or a negative number, as Docker) -> every line.
std::optional<std::size_t> parse_tail(const std::string& value) {
  long long lines = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), lines);
  if (value == "all" || (error == std::errc() && end == value.data() + value.size() && lines < 0)) {
    return std::nullopt;
  }
  if (value.empty() || error != std::errc() || end != value.data() + value.size()) {
    throw Error("invalid value \"" + value + "\" for --tail", 0, "give a number of lines or all");
  }
  return static_cast<std::size_t>(lines);
}

// Writes entries to mcore's own stdout and stderr, each buffered; one stream's buffer goes out before
// an entry of the other is added, so that a terminal showing both keeps their order.
class StandardStreamsSink final : public engine::LogSink {
 public:
  // `prefix` starts every entry ("web | " for a deployment's service).
  explicit StandardStreamsSink(bool timestamps, std::string prefix = "")
      : timestamps_(timestamps), prefix_(std::move(prefix)) {}

  void entry(const engine::LogEntry& entry) override {
    const bool to_stderr = entry.stream == engine::LogStream::stderr_stream;
    Output& output = to_stderr ? stderr_ : stdout_;
    flush(to_stderr ? stdout_ : stderr_);
    output.pending += prefix_;
    if (timestamps_) {
      output.pending += engine::format_log_time(entry.time);
      output.pending += ' ';
    }
    output.pending += entry.text;
    if (output.pending.size() >= kFlushAt) flush(output);
  }

  void idle() override {
    flush(stdout_);
    flush(stderr_);
  }

 private:
  static constexpr std::size_t kFlushAt = 64 * 1024;
  struct Output {
    int fd;
    const char* name;
    std::string pending;
  };

  static void flush(Output& output) {
    if (output.pending.empty()) return;
    if (!write_all(output.fd, output.pending))
      throw Error::from_errno(std::string("write to ") + output.name);
    output.pending.clear();
  }

  bool timestamps_;
  std::string prefix_;
  Output stdout_{STDOUT_FILENO, "standard output", {}};
  Output stderr_{STDERR_FILENO, "standard error", {}};
};

// Docker takes the flags after the container too (`mcore logs web -f`): then the container moves to
// the end and the options are read again.
std::optional<ParsedVerb> parse_logs_arguments(const std::vector<std::string>& args) {
  const std::string usage = "[OPTIONS] CONTAINER";
  auto parsed = parse_verb("logs", usage, verb_summary("logs"), logs_options(), args);
  if (!parsed || parsed->positionals.size() < 2) return parsed;
  std::vector<std::string> reordered(args.begin(),
                                     args.end() - static_cast<std::ptrdiff_t>(parsed->positionals.size()));
  reordered.insert(reordered.end(), parsed->positionals.begin() + 1, parsed->positionals.end());
  reordered.push_back(parsed->positionals.front());
  return parse_verb("logs", usage, verb_summary("logs"), logs_options(), reordered);
}

}  // namespace

// mcore logs --deployment NAME [SERVICE]: every service's log in turn, in service order.
int deployment_logs(CliContext& context, const ParsedVerb& parsed, const engine::LogReadOptions& options) {
  const auto& values = parsed.options;
  if (options.follow) {
    throw Error("--follow with --deployment is not supported", 0, "follow one service: mcore logs -f CONTAINER");
  }
  if (parsed.positionals.size() > 1) throw Error("mcore logs --deployment takes at most one service name");
  const std::string deployment = values["deployment"].as<std::string>();
  const engine::ContainerStore store(context.engine().config().data_root);
  std::map<std::string, std::string> services;  // service -> container id
  for (const auto& record : store.list().records) {
    const auto labels = record.spec.labels;
    auto in = labels.find(engine::kDeploymentLabel);
    auto service = labels.find(engine::kServiceLabel);
    if (in == labels.end() || in->second != deployment || service == labels.end()) continue;
    if (!parsed.positionals.empty() && service->second != parsed.positionals.front()) continue;
    services[service->second] = record.id;
  }
  if (services.empty()) {
    throw VerbError(Error("no containers of deployment " + deployment +
                              (parsed.positionals.empty() ? "" : " service " + parsed.positionals.front()),
                          0, "see mcore ps --deployment " + deployment + " -a"),
                    kExitRefused);
  }
  for (const auto& [service, id] : services) {
    StandardStreamsSink sink(values["timestamps"].as<bool>(), service + " | ");
    engine::read_container_log(store.log_path(id), options, sink);
    sink.idle();
  }
  return 0;
}

int logs_main(CliContext& context, const std::vector<std::string>& args) {
  const auto parsed = parse_logs_arguments(args);
  if (!parsed) return 0;
  if (parsed->options.count("deployment")) {
    engine::LogReadOptions options;
    options.tail = parse_tail(parsed->options["tail"].as<std::string>());
    options.follow = parsed->options["follow"].as<bool>();
    return deployment_logs(context, *parsed, options);
  }
  if (parsed->positionals.size() != 1) {
    throw Error(parsed->positionals.empty() ? "mcore logs needs a container"
                                            : "mcore logs takes one container, got " +
                                                  std::to_string(parsed->positionals.size()) + " arguments",
                0, "see 'mcore logs --help'");
  }
  const auto& values = parsed->options;
  engine::LogReadOptions options;
  options.tail = parse_tail(values["tail"].as<std::string>());
  if (values.count("since")) {
    options.since = engine::parse_since(
        "--since", values["since"].as<std::string>(),
        std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));
  }
  options.follow = values["follow"].as<bool>();

  const auto& config = context.engine().config();
  const engine::ContainerStore store(config.data_root);
  const std::string id = container_id_of(context, parsed->positionals.front());
  // The log needs no record: one that cannot be read is named, with the way out, and the log shown.
  try {
    store.load(id);
  } catch (const engine::UnreadableRecordError& unreadable) {
    report_error(unreadable);
  }
  // The record is read again each time: a restart policy may have started the container anew.
  options.still_running = [&] {
    try {
      auto record = store.load(id);
      if (!record) return false;  // removed meanwhile
      const auto state = engine::observe_container(config, std::move(*record)).state;
      return state == engine::ContainerState::running || state == engine::ContainerState::paused ||
             state == engine::ContainerState::restarting;
    } catch (const engine::UnreadableRecordError&) {
      return engine::supervisor_alive(engine::runtime_paths(config, id));
    }
  };

  StandardStreamsSink sink(values["timestamps"].as<bool>());
  engine::read_container_log(store.log_path(id), options, sink);
  sink.idle();
  return 0;
}

}  // namespace mcore::cli
