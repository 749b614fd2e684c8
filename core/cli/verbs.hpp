#pragma once
// The verb table: one entry per `mcore VERB`, each implemented in cli/<verb>.cpp. Verbs parse their own
// arguments and return the process exit code; they throw mcore::Error for mcore's own failures, which
// main() prints as one line and turns into exit code 125.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/api/engine.hpp"
#include "mcore/error.hpp"

namespace mcore::cli {

// Docker's exit codes for failures of the runtime itself.
inline constexpr int kExitMcoreFailure = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

// Docker's CLI exits 1 when the daemon refuses a request (no such container, a container in the wrong
// state); mcore does the same for those errors and keeps 125 for its own failures.
inline constexpr int kExitRefused = 1;

// An Error that main() reports like any other but with its own exit code.
using VerbError = engine::ExitCodeError;

// What every verb gets: the global options and the engine, created on first use (with its roots
// secured) so that `version` and `--help` work without a config, and as any user.
class CliContext {
 public:
  explicit CliContext(engine::GlobalOptions options) : options_(std::move(options)) {}
  const engine::GlobalOptions& options() const { return options_; }
  engine::Engine& engine() { return engine_with_roots(true); }
  // For a verb that only joins running containers (exec): rootless, the process stays outside the
  // user's namespace, where it owns the containers' namespaces and so may join them.
  engine::Engine& engine_joining_containers() { return engine_with_roots(false); }

 private:
  engine::Engine& engine_with_roots(bool enter_user_namespace) {
    if (!engine_) {
      auto engine = std::make_unique<engine::Engine>(options_);
      engine->secure_roots(enter_user_namespace);
      engine_ = std::move(engine);
    }
    return *engine_;
  }

  engine::GlobalOptions options_;
  std::unique_ptr<engine::Engine> engine_;
};

using VerbMain = int (*)(CliContext& context, const std::vector<std::string>& args);

struct Verb {
  const char* name;
  const char* summary;  // one line for `mcore --help`
  VerbMain main;
};

int run_main(CliContext& context, const std::vector<std::string>& args);
int exec_main(CliContext& context, const std::vector<std::string>& args);
int ps_main(CliContext& context, const std::vector<std::string>& args);
int rename_main(CliContext& context, const std::vector<std::string>& args);
int stats_main(CliContext& context, const std::vector<std::string>& args);
int top_main(CliContext& context, const std::vector<std::string>& args);
int start_main(CliContext& context, const std::vector<std::string>& args);
int stop_main(CliContext& context, const std::vector<std::string>& args);
int restart_main(CliContext& context, const std::vector<std::string>& args);
int kill_main(CliContext& context, const std::vector<std::string>& args);
int rm_main(CliContext& context, const std::vector<std::string>& args);
int pause_main(CliContext& context, const std::vector<std::string>& args);
int unpause_main(CliContext& context, const std::vector<std::string>& args);
int wait_main(CliContext& context, const std::vector<std::string>& args);
int logs_main(CliContext& context, const std::vector<std::string>& args);
int container_prune_main(CliContext& context, const std::vector<std::string>& args);
int boot_main(CliContext& context, const std::vector<std::string>& args);
int pull_main(CliContext& context, const std::vector<std::string>& args);
int login_main(CliContext& context, const std::vector<std::string>& args);
int logout_main(CliContext& context, const std::vector<std::string>& args);
int plugins_main(CliContext& context, const std::vector<std::string>& args);
int images_main(CliContext& context, const std::vector<std::string>& args);
int rmi_main(CliContext& context, const std::vector<std::string>& args);
int import_main(CliContext& context, const std::vector<std::string>& args);
int commit_main(CliContext& context, const std::vector<std::string>& args);
int save_main(CliContext& context, const std::vector<std::string>& args);
int load_main(CliContext& context, const std::vector<std::string>& args);
int image_main(CliContext& context, const std::vector<std::string>& args);
int network_main(CliContext& context, const std::vector<std::string>& args);
int volume_main(CliContext& context, const std::vector<std::string>& args);
int up_main(CliContext& context, const std::vector<std::string>& args);
int down_main(CliContext& context, const std::vector<std::string>& args);
int config_main(CliContext& context, const std::vector<std::string>& args);
int inspect_main(CliContext& context, const std::vector<std::string>& args);
int info_main(CliContext& context, const std::vector<std::string>& args);
int version_main(CliContext& context, const std::vector<std::string>& args);

// Prints an error as the one line users see: "mcore: <what>[; <hint>]" on stderr.
void report_error(const Error& error);

// Every verb, in the order `mcore --help` lists them.
const std::vector<Verb>& all_verbs();

// The summary all_verbs() lists for `name` ("" for an unknown verb), for the verb's own --help.
std::string verb_summary(const std::string& name);

}  // namespace mcore::cli
