// mcore top CONTAINER [ps OPTIONS]: the container's processes, as `docker top` shows them: the host's
// ps (options default to -ef) keeps the rows whose PID is in the container's control group.
#include <algorithm>
#include <charconv>
#include <iostream>
#include <sstream>

#include "cli/container_format.hpp"
#include "cli/container_views.hpp"
#include "cli/output.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/containers.hpp"
#include "mcore/child_process.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

// Runs the host's ps with `args`, collecting what it prints. Throws Error when ps cannot be started.
ChildResult run_ps(std::vector<std::string> args) {
  args.insert(args.begin(), "ps");
  try {
    return run_child(args);
  } catch (Error& error) {
    if (error.error_number() == ENOENT) error.set_hint("mcore top needs the host's ps (Debian: apt-get install procps)");
    throw;
  }
}

std::vector<std::string> words_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// Docker's parsePSOutput: the header's words are the titles; a row is split into as many fields, the last
// one (the command) keeping its spaces; rows whose PID is not the container's are dropped, and so are the
// thread rows ("-" as PID, with -m) that follow them.
std::vector<std::vector<std::string>> container_rows(const std::string& ps_output,
                                                     const std::vector<pid_t>& pids) {
  std::istringstream lines(ps_output);
  std::string header;
  std::getline(lines, header);
  const auto titles = words_of(header);
  const auto pid_column = std::find(titles.begin(), titles.end(), "PID");
  if (pid_column == titles.end()) {
    throw VerbError(
        Error("ps printed no PID column", 0, "keep the PID column in the ps options (e.g. -o pid,args)"),
        kExitRefused);
  }
  const auto pid_index = static_cast<std::size_t>(pid_column - titles.begin());
  std::vector<std::vector<std::string>> rows = {titles};
  bool in_container = false;
  for (std::string line; std::getline(lines, line);) {
    auto fields = words_of(line);
    if (fields.size() < titles.size()) continue;
    if (fields[pid_index] != "-") {
      pid_t pid = 0;
      const auto& text = fields[pid_index];
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pid);
      in_container = error == std::errc() && end == text.data() + text.size() &&
                     std::binary_search(pids.begin(), pids.end(), pid);
    }
    if (!in_container) continue;
    std::string command = fields[titles.size() - 1];
    for (std::size_t i = titles.size(); i < fields.size(); ++i) command += " " + fields[i];
    fields.resize(titles.size());
    fields.back() = command;
    rows.push_back(std::move(fields));
  }
  return rows;
}

std::string joined(const std::vector<std::string>& args) {
  std::string text;
  for (const auto& arg : args) text += (text.empty() ? "" : " ") + arg;
  return text;
}

}  // namespace

int top_main(CliContext& context, const std::vector<std::string>& args) {
  auto parsed = parse_verb("top", "CONTAINER [ps OPTIONS]", verb_summary("top"),
                           po::options_description("Options"), args);
  if (!parsed) return 0;
  if (parsed->positionals.empty()) throw Error("mcore top needs a container", 0, "see 'mcore top --help'");
  const std::string& reference = parsed->positionals.front();
  std::vector<std::string> ps_args(parsed->positionals.begin() + 1, parsed->positionals.end());
  if (ps_args.empty()) ps_args = {"-ef"};

  const auto record = observed_container(context, reference);
  if (record.state == engine::ContainerState::restarting) {
    throw VerbError(Error("container " + reference + " is restarting", 0, "wait until it runs again"),
                    kExitRefused);
  }
  if (!is_up(record)) {
    throw VerbError(Error("container " + reference + " is not running", 0, "start it first"), kExitRefused);
  }
  const auto pids = engine::container_processes(record);

  // As Docker: ask ps for the container's pids only (-q), and without -q for options that refuse it.
  ChildResult output;
  output.exit_code = -1;
  if (!pids.empty()) {
    std::string list;
    for (pid_t pid : pids) list += (list.empty() ? "" : ",") + std::to_string(pid);
    auto quick = ps_args;
    quick.insert(quick.end(), {"-q", list});
    output = run_ps(quick);
  }
  if (output.exit_code != 0) output = run_ps(ps_args);
  if (output.exit_code != 0) {
    std::string message = output.err.substr(0, output.err.find('\n'));
    throw VerbError(Error("ps " + joined(ps_args) + " failed: " + message, 0, "check the ps options"),
                    kExitRefused);
  }
  print_table(std::cout, container_rows(output.out, pids));
  return 0;
}

}  // namespace mcore::cli
