#pragma once
// What up, down and config share: the -f option and where a deployment's containers are.
#include <filesystem>
#include <map>
#include <string>

#include <boost/program_options.hpp>

#include "cli/verbs.hpp"
#include "engine/container/container_store.hpp"

namespace mcore::cli {

// Adds -f/--file.
void add_file_option(boost::program_options::options_description& options);

// -f's file, else the first of mcore.json, compose.yaml, compose.yml, docker-compose.yaml and
// docker-compose.yml in the current directory. Throws Error when there is none.
std::filesystem::path deployment_file(const boost::program_options::variables_map& options);

// Service name -> its container (as observed: running only while its supervisor lives).
std::map<std::string, engine::ContainerRecord> deployment_containers(CliContext& context, const std::string& deployment);

}  // namespace mcore::cli
