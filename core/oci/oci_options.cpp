#include "oci/oci_verbs.hpp"

#include "mcore/error.hpp"

namespace mcore::oci {

namespace po = boost::program_options;

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
