#pragma once
// What up, down and config share: the -f option, and how their progress is printed.
#include <filesystem>
#include <string>

#include <boost/program_options.hpp>

namespace mcore::cli {

// Adds -f/--file.
void add_file_option(boost::program_options::options_description& options);

// -f's file, else the first of mcore.json, compose.yaml, compose.yml, docker-compose.yaml and
// docker-compose.yml in the current directory. Throws Error when there is none.
std::filesystem::path deployment_file(const boost::program_options::variables_map& options);

// "Network shop_front created", one line on stdout.
void print_deployment_progress(const std::string& kind, const std::string& what);

}  // namespace mcore::cli
