#include "oci/oci_verbs.hpp"

#include "mcore/error.hpp"

namespace mcore::oci {

namespace po = boost::program_options;

std::size_t first_positional(const po::options_description& options, const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") return i + 1;
    if (arg.size() < 2 || arg[0] != '-') return i;
    const auto name_at = arg.find_first_not_of('-');
    const auto equals = arg.find('=');
    const std::string name = arg.substr(name_at, equals == std::string::npos ? std::string::npos : equals - name_at);
    const auto* description = options.find_nothrow(name, false);
    // Boost names short options with their dash.
    if (description == nullptr && name.size() == 1) description = options.find_nothrow("-" + name, false);
    if (description != nullptr && equals == std::string::npos && description->semantic()->min_tokens() > 0) ++i;
  }
  return args.size();
}

po::variables_map parse_oci_options(const std::string& command, const po::options_description& options,
                                    const std::vector<std::string>& positional_names,
                                    const std::vector<std::string>& args) {
  po::positional_options_description positional;
  for (const auto& name : positional_names) positional.add(name.c_str(), 1);
  po::variables_map values;
  try {
    const auto style = po::command_line_style::unix_style | po::command_line_style::allow_long_disguise;
    po::store(po::command_line_parser(args).options(options).positional(positional).style(style).run(), values);
  } catch (const po::error& error) {
    throw Error(command + ": " + error.what(), 0, "see '" + command + " --help'");
  }
  return values;
}

}  // namespace mcore::oci
