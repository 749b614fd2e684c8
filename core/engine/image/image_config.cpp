#include "engine/image/image_config.hpp"

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

std::vector<std::string> string_list(const nlohmann::json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return {};
  if (!it->is_array()) throw Error(std::string("the image config's ") + key + " is not a list of strings");
  std::vector<std::string> out;
  for (const auto& item : *it) {
    if (!item.is_string()) throw Error(std::string("the image config's ") + key + " is not a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string text(const nlohmann::json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return "";
  if (!it->is_string()) throw Error(std::string("the image config's ") + key + " is not a string");
  return it->get<std::string>();
}

}  // namespace

ImageDefaults read_image_defaults(const nlohmann::json& image_config) {
  ImageDefaults defaults;
  auto config = image_config.find("config");
  if (config == image_config.end() || !config->is_object()) return defaults;
  defaults.entrypoint = string_list(*config, "Entrypoint");
  defaults.cmd = string_list(*config, "Cmd");
  defaults.env = string_list(*config, "Env");
  defaults.working_dir = text(*config, "WorkingDir");
  defaults.user = text(*config, "User");
  if (std::string signal = text(*config, "StopSignal"); !signal.empty()) defaults.stop_signal = signal;
  if (auto exposed = config->find("ExposedPorts"); exposed != config->end() && exposed->is_object()) {
    for (const auto& [port, ignored] : exposed->items()) defaults.exposed_ports.push_back(port);
  }
  return defaults;
}

std::vector<std::string> container_command(const ImageDefaults& image,
                                           const std::optional<std::string>& entrypoint_flag,
                                           const std::vector<std::string>& arguments) {
  std::vector<std::string> command;
  if (entrypoint_flag) {
    if (!entrypoint_flag->empty()) command.push_back(*entrypoint_flag);
    command.insert(command.end(), arguments.begin(), arguments.end());
  } else {
    command = image.entrypoint;
    const auto& cmd = arguments.empty() ? image.cmd : arguments;
    command.insert(command.end(), cmd.begin(), cmd.end());
  }
  if (command.empty()) {
    throw Error("no command specified", 0, "the image has no Entrypoint or Cmd: add the command after the image name");
  }
  return command;
}

}  // namespace mcore::engine
