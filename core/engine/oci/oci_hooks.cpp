#include "engine/oci/oci_hooks.hpp"

#include <chrono>

#include "engine/util/json_fields.hpp"
#include "mcore/child_process.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

using nlohmann::json;

namespace {

const JsonFields kFields{"see the OCI runtime specification (config.md, \"POSIX-platform Hooks\")"};

OciHook parse_hook(const json& value, const std::string& path) {
  kFields.object(value, path);
  for (const auto& [key, member] : value.items()) {
    if (key != "path" && key != "args" && key != "env" && key != "timeout" && !member.is_null()) {
      kFields.fail(json_key_path(path, key), "is not a hook field (path, args, env, timeout)");
    }
  }
  OciHook hook;
  const json* hook_path = json_member(value, "path");
  if (!hook_path) kFields.fail(path, "needs \"path\"");
  hook.path = kFields.string(*hook_path, json_key_path(path, "path"));
  if (!hook.path.starts_with('/')) kFields.fail(json_key_path(path, "path"), "\"" + hook.path + "\" is not an absolute path");
  if (const json* args = json_member(value, "args")) hook.args = kFields.strings(*args, json_key_path(path, "args"));
  if (const json* env = json_member(value, "env")) hook.env = kFields.strings(*env, json_key_path(path, "env"));
  if (const json* timeout = json_member(value, "timeout")) {
    const std::int64_t seconds = kFields.integer(*timeout, json_key_path(path, "timeout"));
    if (seconds <= 0 || seconds > 24 * 3600) kFields.fail(json_key_path(path, "timeout"), "must be 1 second or more (and at most a day)");
    hook.timeout_seconds = static_cast<int>(seconds);
  }
  return hook;
}

}  // namespace

OciHooks parse_oci_hooks(const json& value, const std::string& path) {
  kFields.object(value, path);
  OciHooks hooks;
  const std::pair<const char*, std::vector<OciHook>*> kinds[] = {
      {"prestart", &hooks.prestart},         {"createRuntime", &hooks.create_runtime},
      {"createContainer", &hooks.create_container}, {"startContainer", &hooks.start_container},
      {"poststart", &hooks.poststart},       {"poststop", &hooks.poststop}};
  for (const auto& [key, member] : value.items()) {
    if (member.is_null()) continue;
    std::vector<OciHook>* list = nullptr;
    for (const auto& [name, hooks_of_kind] : kinds) {
      if (key == name) list = hooks_of_kind;
    }
    if (list == nullptr) {
      kFields.fail(json_key_path(path, key),
                   "is not a hook; use prestart, createRuntime, createContainer, startContainer, poststart or poststop");
    }
    const std::string list_path = json_key_path(path, key);
    for (std::size_t i = 0; i < kFields.array(member, list_path).size(); ++i) {
      list->push_back(parse_hook(member[i], json_index_path(list_path, i)));
    }
  }
  return hooks;
}

void run_oci_hooks(const std::vector<OciHook>& hooks, const char* which, const json& state) {
  const std::string input = state.dump();
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    const OciHook& hook = hooks[i];
    const std::string name = std::string(which) + " hook " + std::to_string(i) + " (" + hook.path + ")";
    ChildOptions options;
    options.input = input;
    options.executable = hook.path;
    options.environment = hook.env;
    if (hook.timeout_seconds) options.timeout = std::chrono::seconds(*hook.timeout_seconds);
    ChildResult result;
    try {
      result = run_child(hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args, options);
    } catch (Error& error) {
      error.add_context(name);
      throw;
    }
    std::string said = result.err.empty() ? result.out : result.err;
    while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
    if (said.size() > 400) said = said.substr(0, 400) + "...";
    if (result.timed_out) {
      throw Error(name + " did not finish within its timeout of " + std::to_string(*hook.timeout_seconds) + " s" +
                  (said.empty() ? "" : ": " + said));
    }
    if (result.exit_code != 0) {
      throw Error(name + " exited with " + std::to_string(result.exit_code) + (said.empty() ? "" : ": " + said));
    }
  }
}

}  // namespace mcore::engine
