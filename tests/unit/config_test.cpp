#include "engine/context/config.hpp"

#include "engine/logs/container_log.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

using nlohmann::json;
using testing::IsSubstring;

// The Error parse_config throws for `document`, as "<what> | <hint>".
std::string parse_error(const json& document) {
  try {
    parse_config(document, "cfg.json");
  } catch (const Error& error) {
    return std::string(error.what()) + " | " + error.hint();
  }
  ADD_FAILURE() << "expected parse_config to reject " << document.dump();
  return "";
}

std::string load_error(const std::filesystem::path& path) {
  try {
    load_config(path);
  } catch (const Error& error) {
    return std::string(error.what()) + " | " + error.hint();
  }
  ADD_FAILURE() << "expected load_config to reject " << path;
  return "";
}

void write(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

TEST(Config, EmptyDocumentGivesTheDefaults) {
  const Config config = parse_config(json::object(), "");
  EXPECT_EQ(config.data_root, "/var/lib/mcore");
  EXPECT_EQ(config.state_root, "/run/mcore");
  EXPECT_EQ(config.log_level, "warn");
  EXPECT_EQ(config.max_concurrent_downloads, 3u);
  EXPECT_EQ(config.default_network, "bridge") << "Docker's default";
  EXPECT_TRUE(config.plugin_dirs.empty());
  EXPECT_TRUE(config.plugin_paths.empty());
  EXPECT_EQ(config.drivers.at(DriverKind::storage), "overlay");
  EXPECT_EQ(config.drivers.at(DriverKind::resource), "auto");
  EXPECT_EQ(config.drivers.at(DriverKind::network), "bridge");
  EXPECT_EQ(config.drivers.at(DriverKind::registry), "docker");
  EXPECT_EQ(config.sections.at(DriverKind::network), json::object());
  EXPECT_TRUE(config.source.empty());
}

TEST(Config, ThePastaDriverBringsItsOwnDefaultNetworkUnlessOneIsNamed) {
  EXPECT_EQ(parse_config({{"drivers", {{"network", "pasta"}}}}, "").default_network, "pasta")
      << "the pasta driver has no network called bridge";
  EXPECT_EQ(
      parse_config({{"drivers", {{"network", "pasta"}}}, {"default_network", "none"}}, "").default_network,
      "none");
  EXPECT_EQ(parse_config({{"drivers", {{"network", "bridge"}}}}, "").default_network, "bridge");
}

TEST(Config, ReadsEveryKey) {
  const json document = {
      {"data_root", "/srv/mcore"},
      {"state_root", "/run/m"},
      {"log_level", "debug"},
      {"max_concurrent_downloads", 5},
      {"default_network", "none"},
      {"plugin_dirs", {"/opt/a", "/opt/b"}},
      {"drivers", {{"storage", "vfs"}, {"resource", "cgroup-v2"}}},
      {"plugin_paths", {{"network", "/opt/acme/mcore-network-acme.so"}}},
      {"resource", {{"cgroup_parent", "/mcore"}}},
      {"storage", nullptr},
  };
  const Config config = parse_config(document, "cfg.json");
  EXPECT_EQ(config.data_root, "/srv/mcore");
  EXPECT_EQ(config.state_root, "/run/m");
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_EQ(config.max_concurrent_downloads, 5u);
  EXPECT_EQ(config.default_network, "none");
  EXPECT_EQ(config.plugin_dirs, (std::vector<std::filesystem::path>{"/opt/a", "/opt/b"}));
  EXPECT_EQ(config.drivers.at(DriverKind::storage), "vfs");
  EXPECT_EQ(config.drivers.at(DriverKind::resource), "cgroup-v2");
  EXPECT_EQ(config.drivers.at(DriverKind::network), "bridge") << "unset roles keep their default";
  EXPECT_EQ(config.plugin_paths.at(DriverKind::network), "/opt/acme/mcore-network-acme.so");
  EXPECT_EQ(config.sections.at(DriverKind::resource), (json{{"cgroup_parent", "/mcore"}}));
  EXPECT_EQ(config.sections.at(DriverKind::storage), json::object()) << "null means absent";
}

TEST(Config, RoleSectionsArePassedThroughUnvalidated) {
  const json network = {{"bridge", {{"subnet", "10.9.0.0/24"}}}, {"anything", 1}};
  const Config config = parse_config({{"network", network}}, "cfg.json");
  EXPECT_EQ(config.sections.at(DriverKind::network), network);
}

TEST(Config, UnknownKeysAreRejectedWithTheirPath) {
  std::string message = parse_error({{"data_rot", "/x"}});
  EXPECT_PRED_FORMAT2(IsSubstring, "cfg.json: data_rot: unknown key", message);
  EXPECT_PRED_FORMAT2(IsSubstring, "data_root", message) << "the hint lists the valid keys";

  message = parse_error({{"drivers", {{"storag", "overlay"}}}});
  EXPECT_PRED_FORMAT2(IsSubstring, "cfg.json: drivers.storag: unknown key", message);
  EXPECT_PRED_FORMAT2(IsSubstring, "storage, network, resource, registry", message);

  message = parse_error({{"plugin_paths", {{"runtime", "/x.so"}}}});
  EXPECT_PRED_FORMAT2(IsSubstring, "plugin_paths.runtime: unknown key", message);
}

TEST(Config, WrongTypesAreNamed) {
  EXPECT_PRED_FORMAT2(IsSubstring, "data_root: expected a string, found number",
                      parse_error({{"data_root", 5}}));
  EXPECT_PRED_FORMAT2(IsSubstring, "plugin_dirs: expected a list of strings, found string",
                      parse_error({{"plugin_dirs", "/opt"}}));
  EXPECT_PRED_FORMAT2(IsSubstring, "plugin_dirs[1]: expected a string, found number",
                      parse_error({{"plugin_dirs", {"/opt", 2}}}));
  EXPECT_PRED_FORMAT2(IsSubstring, "drivers: expected an object, found string",
                      parse_error({{"drivers", "overlay"}}));
  EXPECT_PRED_FORMAT2(IsSubstring, "drivers.storage: expected a string, found boolean",
                      parse_error({{"drivers", {{"storage", true}}}}));
  EXPECT_PRED_FORMAT2(IsSubstring, "storage: expected an object, found array",
                      parse_error({{"storage", {1, 2}}}));
  EXPECT_PRED_FORMAT2(IsSubstring, "expected a JSON object at the top level, found array",
                      parse_error(json::array()));
}

TEST(Config, ConcurrentDownloadsMustBeInRange) {
  for (const int bad : {0, -1, 65}) {
    EXPECT_PRED_FORMAT2(IsSubstring, "cfg.json: max_concurrent_downloads: " + std::to_string(bad) + " is out of range",
                        parse_error({{"max_concurrent_downloads", bad}}));
  }
  EXPECT_PRED_FORMAT2(IsSubstring, "max_concurrent_downloads", parse_error({{"max_concurrent_downloads", "3"}}));
  EXPECT_EQ(parse_config({{"max_concurrent_downloads", 64}}, "cfg.json").max_concurrent_downloads, 64u);
}

TEST(Config, UsernsIsHostOrAutoWithAUserForTheRanges) {
  const Config defaults = parse_config(json::object(), "cfg.json");
  EXPECT_EQ(defaults.userns, "host") << "a container shares the host's user namespace unless asked";
  EXPECT_EQ(defaults.userns_user, "mcore");
  const Config automatic = parse_config({{"userns", "auto"}, {"userns_user", "remap"}}, "cfg.json");
  EXPECT_EQ(automatic.userns, "auto");
  EXPECT_EQ(automatic.userns_user, "remap");
  EXPECT_PRED_FORMAT2(IsSubstring, "cfg.json: userns: \"private\" is not host or auto",
                      parse_error({{"userns", "private"}}));
  EXPECT_PRED_FORMAT2(IsSubstring, "userns_user: empty", parse_error({{"userns_user", ""}}));
}

TEST(Config, PathsMustBeAbsolute) {
  EXPECT_PRED_FORMAT2(IsSubstring, "plugin_paths.resource: \"plugins/x.so\" is not an absolute path",
                      parse_error({{"plugin_paths", {{"resource", "plugins/x.so"}}}}));
  EXPECT_PRED_FORMAT2(IsSubstring, "plugin_dirs[0]: \"plugins\" is not an absolute path",
                      parse_error({{"plugin_dirs", {"plugins"}}}));
  EXPECT_PRED_FORMAT2(IsSubstring, "state_root: \"run\" is not an absolute path",
                      parse_error({{"state_root", "run"}}));
}

TEST(Config, DriverNamesCannotEscapeTheFileName) {
  EXPECT_PRED_FORMAT2(IsSubstring, "drivers.storage: \"../evil\" is not a valid driver name",
                      parse_error({{"drivers", {{"storage", "../evil"}}}}));
  EXPECT_PRED_FORMAT2(IsSubstring, "drivers.network: \"\" is not a valid driver name",
                      parse_error({{"drivers", {{"network", ""}}}}));
}

TEST(Config, ToJsonShowsEveryDefaultAndRoundTrips) {
  const Config config =
      parse_config({{"drivers", {{"network", "none"}}}, {"registry", {{"insecure", true}}}}, "");
  const json effective = config.to_json();
  EXPECT_EQ(effective["drivers"]["storage"], "overlay");
  EXPECT_EQ(effective["drivers"]["network"], "none");
  EXPECT_EQ(effective["registry"]["insecure"], true);
  EXPECT_EQ(effective["storage"], json::object());
  EXPECT_EQ(parse_config(effective, "").to_json(), effective);
}

TEST(Config, LogOptsDefaultEveryContainersLogLimitsAndAreCheckedAtLoad) {
  // Issue 14, item 8: without --log-opt a log grew without bound.
  EXPECT_EQ(parse_config(json::object(), "").log_opts, (std::vector<std::string>{"max-size=20m", "max-file=5"}));
  EXPECT_EQ(parse_config({{"log_opts", {{"max-size", "1m"}}}}, "").log_opts, std::vector<std::string>{"max-size=1m"});
  EXPECT_TRUE(parse_config({{"log_opts", json::object()}}, "").log_opts.empty()) << "{} means no limit";
  EXPECT_PRED_FORMAT2(IsSubstring, "log_opts", parse_error({{"log_opts", {{"max-sise", "1m"}}}}));
  EXPECT_PRED_FORMAT2(IsSubstring, "log_opts.max-size: expected a string", parse_error({{"log_opts", {{"max-size", 5}}}}));
  EXPECT_PRED_FORMAT2(IsSubstring, "log_opts", parse_error({{"log_opts", "max-size=1m"}}));
  // A container's own --log-opt wins, key by key.
  EXPECT_EQ(with_log_defaults({"max-size=20m", "max-file=5"}, {"max-file=2"}),
            (std::vector<std::string>{"max-size=20m", "max-file=2"}));
  EXPECT_EQ(parse_config(parse_config({{"log_opts", {{"max-file", "2"}, {"max-size", "3k"}}}}, "").to_json(), "").log_opts,
            (std::vector<std::string>{"max-file=2", "max-size=3k"}));
}

TEST(Config, ExplicitFileMustExist) {
  const std::string message = load_error("/nonexistent/mcore.json");
  EXPECT_PRED_FORMAT2(IsSubstring, "config file /nonexistent/mcore.json does not exist", message);
  EXPECT_PRED_FORMAT2(IsSubstring, "--config", message);
}

TEST(Config, SyntaxErrorsNameTheFileAndPosition) {
  test::TempDir dir;
  const auto file = dir.path() / "config.json";
  write(file, "{\n  \"data_root\": \"/x\",\n}\n");
  const std::string message = load_error(file);
  EXPECT_PRED_FORMAT2(IsSubstring, file.string() + ": invalid JSON", message);
  EXPECT_PRED_FORMAT2(IsSubstring, "line 3", message);
}

TEST(Config, LoadsAFileAndNamesItInErrors) {
  test::TempDir dir;
  const auto file = dir.path() / "config.json";
  write(file, R"({"state_root": "/run/test", "resource": {"cgroup_parent": "/t"}})");
  const Config config = load_config(file);
  EXPECT_EQ(config.source, file);
  EXPECT_EQ(config.state_root, "/run/test");

  write(file, R"({"drivers": {"resorce": "cgroup-v2"}})");
  EXPECT_PRED_FORMAT2(IsSubstring, file.string() + ": drivers.resorce: unknown key", load_error(file));
}

}  // namespace
}  // namespace mcore::engine
