#pragma once
// Argument parsing shared by every verb, on Boost.ProgramOptions.
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace mcore::cli {

struct ParsedVerb {
  boost::program_options::variables_map options;
  // The first argument that is not an option, and everything after it, verbatim (Docker's rule, so
  // `mcore run --rootfs R sh -c 'echo hi'` keeps -c for the command).
  std::vector<std::string> positionals;
};

// Parses the options in front of the first positional argument of `args` against `options`; the
// positional and everything after it land in `positionals` verbatim ("--" ends the options and is
// dropped). `command` names the command in the errors' hints ("mcore run"). Stores the values but does
// not run po::notify, so that --help works without required options. Throws Error on bad flags or values.
ParsedVerb parse_options(const std::string& command, const boost::program_options::options_description& options,
                         const std::vector<std::string>& args);

// Parses `args` of `mcore <verb>` against `options` (which gains --help). On --help prints
// "Usage: mcore <verb> <usage>", `summary` and the options to stdout and returns nullopt: the verb then
// returns 0. Throws Error ("unknown flag: --foo", hint "see 'mcore run --help'") on bad flags or
// values; report_error() prints it as "mcore: unknown flag: --foo; see 'mcore run --help'".
std::optional<ParsedVerb> parse_verb(const std::string& verb, const std::string& usage,
                                     const std::string& summary,
                                     boost::program_options::options_description options,
                                     const std::vector<std::string>& args);

// Docker's prune prompt: prints "WARNING! <warning>" and asks to continue; true on y/Y/yes. `force`
// (-f) answers yes without asking.
bool confirmed(bool force, const std::string& warning);

// Throws Error when a verb that takes no arguments got some ("mcore info: unexpected argument \"x\"").
void expect_no_arguments(const std::string& verb, const ParsedVerb& parsed);

}  // namespace mcore::cli
