#pragma once
// mcore-oci's verbs, runc's command line: each parses its own options (long options with one dash or
// two, `--x=v` or `--x v`) and calls the engine's OCI runtime.
#include <functional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "engine/api/oci.hpp"

namespace mcore::oci {

struct OciVerb {
  std::string name;
  std::string usage;    // after "mcore-oci NAME "
  std::string summary;
  std::function<void(boost::program_options::options_description&)> add_options;
  std::vector<std::string> positionals;  // names, in order
  // Returns the exit code.
  std::function<int(engine::OciRuntime&, const boost::program_options::variables_map&, const std::vector<std::string>& rest)>
      run;
  // The arguments after the first positional are the verb's own, verbatim (exec's command).
  bool rest_verbatim = false;
};

const std::vector<OciVerb>& all_oci_verbs();

// The index of the first argument that is neither an option nor an option's value (args.size() when
// there is none): where the verb (for the global options) or exec's command begins.
std::size_t first_positional(const boost::program_options::options_description& options,
                             const std::vector<std::string>& args);

// Long options in runc's forms: "-bundle x" as well as "--bundle x", "--bundle=x".
boost::program_options::variables_map parse_oci_options(const std::string& command,
                                                        const boost::program_options::options_description& options,
                                                        const std::vector<std::string>& positional_names,
                                                        const std::vector<std::string>& args);

}  // namespace mcore::oci
