#include "cli/verb_options.hpp"

#include <iostream>

#include "cli/word_suggestions.hpp"
#include "mcore/error.hpp"

namespace mcore::cli {

namespace po = boost::program_options;

namespace {

// One option as the user wrote it, before Boost converts its value.
struct Occurrence {
  const po::option_description* description;
  std::string written;  // "--memory" or "-m"
  std::optional<std::string> value;
};

[[noreturn]] void fail(const std::string& command, const std::string& message) {
  throw Error(message, 0, "see '" + command + " --help'");
}

// An unknown flag, with the flag the user probably meant when one is close.
[[noreturn]] void fail_unknown(const std::string& command, const po::options_description& options,
                               const std::string& message, const std::string& written) {
  if (auto meant = suggest_flag(options, written)) throw Error(message, 0, "did you mean " + *meant + "?");
  fail(command, message);
}

// Docker's rule: an option whose value is optional (implicit_value) takes one only as --flag=value.
bool needs_value(const po::option_description& description) {
  return description.semantic()->min_tokens() > 0;
}
bool accepts_value(const po::option_description& description) {
  return description.semantic()->max_tokens() > 0;
}

// Reads the options in front of the first positional; returns the index of that positional.
std::size_t split_options(const std::string& command, const po::options_description& options,
                          const std::vector<std::string>& args, std::vector<Occurrence>& occurrences) {
  std::size_t i = 0;
  auto next_value = [&](const std::string& flag) -> std::string {
    if (i + 1 >= args.size()) fail(command, "flag needs an argument: " + flag);
    return args[++i];
  };
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") return i + 1;
    if (arg.size() < 2 || arg[0] != '-') return i;  // "-" alone is a positional (stdin)

    if (arg[1] == '-') {
      const auto equals = arg.find('=');
      const std::string written = arg.substr(0, equals);
      const auto* description = options.find_nothrow(written.substr(2), false);
      if (description == nullptr) fail_unknown(command, options, "unknown flag: " + written, written);
      Occurrence occurrence{description, written, std::nullopt};
      if (equals != std::string::npos) {
        if (!accepts_value(*description)) fail(command, "flag " + written + " does not take a value");
        occurrence.value = arg.substr(equals + 1);
      } else if (needs_value(*description)) {
        occurrence.value = next_value(written);
      }
      occurrences.push_back(std::move(occurrence));
      continue;
    }

    // Another runtime's single-dash long flag (-mem 100m, -name web) is not a cluster (-m em).
    const std::string word = arg.substr(0, arg.find('='));
    if (word.size() > 2 && is_foreign_flag(options, word)) {
      fail_unknown(command, options, "unknown flag: " + word, word);
    }
    // A cluster of short flags: -it, -m1g, -m 1g, -m=1g.
    for (std::size_t j = 1; j < arg.size(); ++j) {
      const std::string written = std::string("-") + arg[j];
      const auto* description = options.find_nothrow(written, false);
      if (description == nullptr)
        fail_unknown(command, options, "unknown shorthand flag: '" + arg.substr(j, 1) + "' in " + arg, word);
      Occurrence occurrence{description, written, std::nullopt};
      const std::string rest = arg.substr(j + 1);
      const bool value_follows =
          needs_value(*description) || (accepts_value(*description) && rest.starts_with('='));
      if (value_follows) {
        // -privileged is not -p rivileged: a long flag's name with one dash is a typo, not a value.
        if (!rest.empty() && options.find_nothrow(word.substr(1), false) != nullptr) {
          fail_unknown(command, options, "unknown flag: " + word, word);
        }
        if (!rest.empty()) {
          occurrence.value = rest.starts_with('=') ? rest.substr(1) : rest;
        } else {
          occurrence.value = next_value(written);
        }
      }
      occurrences.push_back(std::move(occurrence));
      if (value_follows) break;
    }
  }
  return i;
}

}  // namespace

ParsedVerb parse_options(const std::string& command, const po::options_description& options,
                         const std::vector<std::string>& args) {
  std::vector<Occurrence> occurrences;
  const std::size_t first_positional = split_options(command, options, args, occurrences);

  po::parsed_options parsed(&options);
  for (const auto& occurrence : occurrences) {
    std::vector<std::string> values;
    if (occurrence.value) values.push_back(*occurrence.value);
    // Converting each value on its own first lets the error name exactly the value and flag at fault.
    try {
      boost::any scratch;
      occurrence.description->semantic()->parse(scratch, values, true);
    } catch (const po::error&) {
      fail(command, "invalid value \"" + occurrence.value.value_or("") + "\" for flag " + occurrence.written);
    }
    po::option option(occurrence.description->key(occurrence.written), values);
    option.original_tokens.push_back(occurrence.written);
    parsed.options.push_back(std::move(option));
  }

  ParsedVerb result;
  try {
    po::store(parsed, result.options);
  } catch (const po::multiple_occurrences& error) {
    // Boost names the option by its key ("memory"); say it the way a user types it.
    std::string flag = error.get_option_name();
    for (const auto& occurrence : occurrences) {
      if (occurrence.description->key(occurrence.written) == flag) {
        const auto& long_name = occurrence.description->long_name();
        flag = long_name.empty() ? occurrence.written : "--" + long_name;
        break;
      }
    }
    fail(command, "flag " + flag + " may be given only once");
  } catch (const po::error& error) {
    fail(command, error.what());
  }
  result.positionals.assign(args.begin() + static_cast<std::ptrdiff_t>(first_positional), args.end());
  return result;
}

std::optional<ParsedVerb> parse_verb(const std::string& verb, const std::string& usage,
                                     const std::string& summary, po::options_description options,
                                     const std::vector<std::string>& args) {
  const std::string command = "mcore " + verb;
  options.add_options()("help,h", po::bool_switch(), "print this help");
  ParsedVerb parsed = parse_options(command, options, args);
  if (parsed.options["help"].as<bool>()) {
    std::cout << "Usage: " << command << (usage.empty() ? "" : " " + usage) << "\n\n";
    if (!summary.empty()) std::cout << summary << "\n\n";
    std::cout << options;
    return std::nullopt;
  }
  try {
    po::notify(parsed.options);
  } catch (const po::error& error) {
    fail(command, error.what());
  }
  return parsed;
}

void expect_no_arguments(const std::string& verb, const ParsedVerb& parsed) {
  if (!parsed.positionals.empty()) {
    fail("mcore " + verb,
         "'" + verb + "' takes no arguments, but got \"" + parsed.positionals.front() + "\"");
  }
}

bool confirmed(bool force, const std::string& warning) {
  if (force) return true;
  std::cout << "WARNING! " << warning << "\nAre you sure you want to continue? [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace mcore::cli
