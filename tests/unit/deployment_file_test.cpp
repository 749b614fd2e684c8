// Deployment files: JSON and Compose YAML read into one model; every problem reported with its path.
#include "engine/deploy/deployment_file.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

// The whole model as JSON, so two models compare (and a mismatch prints) in one expression.
json describe(const Deployment& deployment) {
  json services = json::array();
  for (const auto& s : deployment.services) {
    json depends = json::array();
    for (const auto& d : s.depends_on) depends.push_back({d.service, d.condition});
    json health = nullptr;
    if (s.healthcheck) {
      const auto& h = *s.healthcheck;
      health = {h.test, h.interval_ms, h.timeout_ms, h.retries, h.start_period_ms};
    }
    services.push_back({{"name", s.name}, {"image", s.image}, {"command", s.command ? json(*s.command) : json()},
                        {"entrypoint", s.entrypoint ? json(*s.entrypoint) : json()},
                        {"environment", s.environment}, {"ports", s.ports}, {"volumes", s.volumes},
                        {"networks", s.networks}, {"depends_on", depends}, {"restart", s.restart},
                        {"memory", s.memory ? json(*s.memory) : json()}, {"cpus", s.cpus ? json(*s.cpus) : json()},
                        {"pids_limit", s.pids_limit ? json(*s.pids_limit) : json()},
                        {"user", s.user ? json(*s.user) : json()},
                        {"working_dir", s.working_dir ? json(*s.working_dir) : json()},
                        {"hostname", s.hostname ? json(*s.hostname) : json()}, {"healthcheck", health}});
  }
  json networks = json::array();
  for (const auto& n : deployment.networks) networks.push_back({n.name, n.subnet, n.gateway});
  json volumes = json::array();
  for (const auto& v : deployment.volumes) volumes.push_back(v.name);
  return {{"name", deployment.name}, {"services", services}, {"networks", networks}, {"volumes", volumes}};
}

// "path: message" lines, one per problem, for readable failures.
std::vector<std::string> problems_of(const DeploymentFile& file) {
  std::vector<std::string> lines;
  for (const auto& problem : file.problems) lines.push_back(problem.path + ": " + problem.message);
  return lines;
}

bool has_problem(const DeploymentFile& file, const std::string& path, const std::string& text) {
  for (const auto& problem : file.problems) {
    if (problem.path == path && problem.message.find(text) != std::string::npos) return true;
  }
  return false;
}

class DeploymentFileTest : public ::testing::Test {
 protected:
  DeploymentFile read(const std::string& name, const std::string& text) {
    write(dir.path() / "Shop.App" / name, text);
    return read_deployment(dir.path() / "Shop.App" / name);
  }
  fs::path app() const { return dir.path() / "Shop.App"; }

  test::TempDir dir{"mcore-deployment-test"};
};

const char* const valid_json = R"({
  "version": "3.8",
  "services": {
    "web": {"image": "busybox", "command": "httpd -f -h '/var/www html'", "ports": ["8080:80", 9090],
            "environment": {"MODE": "prod", "SHARED": "from-environment"}, "env_file": "web.env",
            "volumes": ["data:/data", "./static:/static:ro", "/cache"], "networks": ["front"],
            "depends_on": {"db": {"condition": "service_healthy"}},
            "restart": "always", "mem_limit": "64m", "cpus": 0.5, "pids_limit": 100, "user": 1000,
            "working_dir": "/srv", "hostname": "www"},
    "db": {"image": "busybox", "entrypoint": ["sh", "-c"], "command": ["sleep 1000"],
           "environment": ["A=1", "B=two words"], "networks": {"front": null},
           "healthcheck": {"test": ["CMD", "true"], "interval": "1m30s", "timeout": "500ms",
                           "start_period": "2s", "retries": 5}},
    "job": {"image": "busybox:1.36", "command": ["true"], "restart": "on-failure:3"}
  },
  "networks": {"front": {"ipam": {"config": [{"subnet": "10.90.0.0/24", "gateway": "10.90.0.1"}]}}},
  "volumes": {"data": {}},
  "x-notes": "ignored"
})";

const char* const valid_yaml = R"(version: "3.8"
services:
  web:
    image: busybox
    command: httpd -f -h '/var/www html'
    ports:
      - "8080:80"
      - 9090
    environment:
      MODE: prod
      SHARED: from-environment
    env_file: web.env
    volumes: [data:/data, ./static:/static:ro, /cache]
    networks: [front]
    depends_on:
      db:
        condition: service_healthy
    restart: always
    mem_limit: 64m
    cpus: 0.5
    pids_limit: 100
    user: 1000
    working_dir: /srv
    hostname: www
  db:
    image: busybox
    entrypoint: [sh, -c]
    command: ["sleep 1000"]
    environment:
      - A=1
      - B=two words
    networks:
      front:
    healthcheck:
      test: [CMD, "true"]
      interval: 1m30s
      timeout: 500ms
      start_period: 2s
      retries: 5
  job:
    image: busybox:1.36
    command: ["true"]
    restart: on-failure:3
networks:
  front:
    ipam:
      config:
        - subnet: 10.90.0.0/24
          gateway: 10.90.0.1
volumes:
  data: {}
x-notes: ignored
)";

TEST_F(DeploymentFileTest, JsonAndComposeYamlGiveTheSameModel) {
  write(app() / "web.env", "# comment\nSHARED=from-file\nFILE_ONLY=yes\n\n");
  fs::create_directories(app() / "static");
  const auto from_json = read("deployment.json", valid_json);
  const auto from_yaml = read("compose.yaml", valid_yaml);
  ASSERT_TRUE(from_json.problems.empty()) << testing::PrintToString(problems_of(from_json));
  ASSERT_TRUE(from_yaml.problems.empty()) << testing::PrintToString(problems_of(from_yaml));
  EXPECT_EQ(describe(from_json.deployment).dump(2), describe(from_yaml.deployment).dump(2));

  const Deployment& d = from_json.deployment;
  EXPECT_EQ(d.name, "shopapp");  // from the directory "Shop.App"
  ASSERT_EQ(d.services.size(), 3u);
  // Dependencies first; file order otherwise.
  EXPECT_EQ(d.services[0].name, "db");
  EXPECT_EQ(d.services[1].name, "web");
  EXPECT_EQ(d.services[2].name, "job");
  const auto& web = d.services[1];
  EXPECT_EQ(web.command, (std::vector<std::string>{"httpd", "-f", "-h", "/var/www html"}));
  // The env file first, then `environment`, so that its entries win.
  EXPECT_EQ(web.environment, (std::vector<std::string>{"SHARED=from-file", "FILE_ONLY=yes", "MODE=prod",
                                                       "SHARED=from-environment"}));
  EXPECT_EQ(web.ports, (std::vector<std::string>{"8080:80", "9090"}));
  EXPECT_EQ(web.volumes, (std::vector<std::string>{"data:/data", (app() / "static").string() + ":/static:ro", "/cache"}));
  EXPECT_EQ(web.networks, (std::vector<std::string>{"front"}));
  ASSERT_EQ(web.depends_on.size(), 1u);
  EXPECT_EQ(web.depends_on[0].service, "db");
  EXPECT_EQ(web.depends_on[0].condition, "service_healthy");
  EXPECT_EQ(web.memory, "64m");
  EXPECT_EQ(web.cpus, 0.5);
  EXPECT_EQ(web.pids_limit, 100);
  EXPECT_EQ(web.user, "1000");
  const auto& db = d.services[0];
  EXPECT_EQ(db.entrypoint, (std::vector<std::string>{"sh", "-c"}));
  ASSERT_TRUE(db.healthcheck.has_value());
  EXPECT_EQ(db.healthcheck->test, (std::vector<std::string>{"CMD", "true"}));
  EXPECT_EQ(db.healthcheck->interval_ms, 90'000);
  EXPECT_EQ(db.healthcheck->timeout_ms, 500);
  EXPECT_EQ(db.healthcheck->start_period_ms, 2'000);
  EXPECT_EQ(db.healthcheck->retries, 5);
  // job has no `networks`: it is on "default", which the deployment then has.
  EXPECT_EQ(d.services[2].networks, (std::vector<std::string>{"default"}));
  EXPECT_EQ(d.services[2].restart, "on-failure:3");
  ASSERT_EQ(d.networks.size(), 2u);
  EXPECT_EQ(d.networks[0].name, "front");
  EXPECT_EQ(d.networks[0].subnet, "10.90.0.0/24");
  EXPECT_EQ(d.networks[0].gateway, "10.90.0.1");
  EXPECT_EQ(d.networks[1].name, "default");
  ASSERT_EQ(d.volumes.size(), 1u);
  EXPECT_EQ(d.volumes[0].name, "data");
}

TEST_F(DeploymentFileTest, NameAndPlainSubnetAreRead) {
  const auto file = read("d.json", R"({"name": "shop", "services": {"a": {"image": "busybox"}},
      "networks": {"default": {"subnet": "10.91.0.0/24"}}})");
  ASSERT_TRUE(file.problems.empty()) << testing::PrintToString(problems_of(file));
  EXPECT_EQ(file.deployment.name, "shop");
  ASSERT_EQ(file.deployment.networks.size(), 1u);
  EXPECT_EQ(file.deployment.networks[0].subnet, "10.91.0.0/24");
}

TEST_F(DeploymentFileTest, KeyAloneInEnvironmentComesFromMcoresEnvironment) {
  ::setenv("MCORE_DEPLOYMENT_TEST_VAR", "inherited", 1);
  const auto file = read("compose.yaml",
                         "services:\n  a:\n    image: busybox\n    environment:\n"
                         "      MCORE_DEPLOYMENT_TEST_VAR:\n      MCORE_DEPLOYMENT_TEST_UNSET:\n");
  ::unsetenv("MCORE_DEPLOYMENT_TEST_VAR");
  ASSERT_TRUE(file.problems.empty()) << testing::PrintToString(problems_of(file));
  EXPECT_EQ(file.deployment.services[0].environment, (std::vector<std::string>{"MCORE_DEPLOYMENT_TEST_VAR=inherited"}));
}

TEST_F(DeploymentFileTest, UnknownKeyIsReportedWithItsPath) {
  const auto file = read("d.json", R"({"services": {"web": {"image": "busybox", "portz": ["80"]}}, "volumez": {}})");
  EXPECT_TRUE(has_problem(file, "services.web.portz", "unknown key (did you mean \"ports\"?)"))
      << testing::PrintToString(problems_of(file));
  EXPECT_TRUE(has_problem(file, "volumez", "unknown key")) << testing::PrintToString(problems_of(file));
}

TEST_F(DeploymentFileTest, UnsupportedComposeKeysAreRefusedByName) {
  const auto file = read("compose.yaml", R"(services:
  web:
    image: busybox
    build: .
    container_name: web
    cap_add: [NET_ADMIN]
    x-extension: fine
secrets:
  token:
    file: ./token
include: [other.yaml]
)");
  EXPECT_TRUE(has_problem(file, "services.web.build", "not supported by mcore"));
  EXPECT_TRUE(has_problem(file, "services.web.container_name", "<deployment>-<service>-1"));
  EXPECT_TRUE(has_problem(file, "services.web.cap_add", "not supported by mcore"));
  EXPECT_TRUE(has_problem(file, "include", "not supported by mcore"));
  EXPECT_EQ(file.problems.size(), 4u) << testing::PrintToString(problems_of(file));
}

TEST_F(DeploymentFileTest, WrongTypesNameWhatWasExpectedAndFound) {
  const auto file = read("d.json", R"({"services": {"web": {"image": ["busybox"], "ports": "80:80",
      "pids_limit": "many", "healthcheck": {"test": "true", "retries": 1.5}}}, "volumes": []})");
  EXPECT_TRUE(has_problem(file, "services.web.image", "expected a string, found a list"));
  EXPECT_TRUE(has_problem(file, "services.web.ports", "expected a list, found a string"));
  EXPECT_TRUE(has_problem(file, "services.web.pids_limit", "expected an integer, found a string"));
  EXPECT_TRUE(has_problem(file, "services.web.healthcheck.retries", "expected an integer, found a number"));
  EXPECT_TRUE(has_problem(file, "volumes", "found a list")) << testing::PrintToString(problems_of(file));
}

TEST_F(DeploymentFileTest, DependencyCycleIsReported) {
  const auto file = read("compose.yaml", R"(services:
  a: {image: busybox, depends_on: [b]}
  b: {image: busybox, depends_on: [a]}
  c: {image: busybox, depends_on: [c, d]}
)");
  EXPECT_TRUE(has_problem(file, "services.a.depends_on", "a -> b -> a")) << testing::PrintToString(problems_of(file));
  EXPECT_TRUE(has_problem(file, "services.c.depends_on", "c -> c"));
  EXPECT_TRUE(has_problem(file, "services.c.depends_on[1]", "unknown service \"d\""));
}

TEST_F(DeploymentFileTest, HealthyConditionNeedsAHealthcheck) {
  const auto file = read("d.json", R"({"services": {"a": {"image": "busybox",
      "depends_on": {"b": {"condition": "service_healthy"}}}, "b": {"image": "busybox"}}})");
  EXPECT_TRUE(has_problem(file, "services.a.depends_on.b", "needs a healthcheck on service \"b\""))
      << testing::PrintToString(problems_of(file));
}

TEST_F(DeploymentFileTest, HostPortPublishedTwiceNamesBothPaths) {
  const auto file = read("d.json", R"({"services": {"a": {"image": "busybox", "ports": ["8080:80", "53:53/udp"]},
      "b": {"image": "busybox", "ports": ["127.0.0.1:9000:90", "8080:81", "53:53", "8080"]}}})");
  EXPECT_TRUE(has_problem(file, "services.b.ports[1]", "host port 8080/tcp is already published by services.a.ports[0]"))
      << testing::PrintToString(problems_of(file));
  // Other protocols and container-only ports do not clash.
  EXPECT_EQ(file.problems.size(), 1u) << testing::PrintToString(problems_of(file));
}

TEST_F(DeploymentFileTest, MissingEnvFileIsReportedWithItsPath) {
  const auto file = read("d.json", R"({"services": {"a": {"image": "busybox", "env_file": ["missing.env"]}}})");
  EXPECT_TRUE(has_problem(file, "services.a.env_file[0]", (app() / "missing.env").string() + " does not exist"))
      << testing::PrintToString(problems_of(file));
}

TEST_F(DeploymentFileTest, UndeclaredNetworksAndVolumesAreProblems) {
  const auto file = read("compose.yaml", R"(services:
  a:
    image: busybox
    networks: [back]
    volumes: ["logs:/logs", "./missing:/m"]
)");
  EXPECT_TRUE(has_problem(file, "services.a.networks[0]", "network \"back\" is not declared"))
      << testing::PrintToString(problems_of(file));
  EXPECT_TRUE(has_problem(file, "services.a.volumes[0]", "volume \"logs\" is not declared"));
  EXPECT_TRUE(has_problem(file, "services.a.volumes[1]", (app() / "missing").string() + " does not exist"));
}

TEST_F(DeploymentFileTest, EveryProblemOfAFileIsReturned) {
  const auto file = read("compose.yaml", R"(services:
  web:
    imag: busybox
    ports: ["8080:80", "8080:80", "99999:1"]
    restart: sometimes
    mem_limit: lots
    cpus: 0
    healthcheck:
      test: [CMD]
      interval: soon
networks:
  front:
    driver: overlay
    subnet: 10.0.0.0/99
volumes:
  data:
    external: true
)");
  const std::vector<std::string> paths = {"services.web.imag",        "services.web.ports[1]",
                                          "services.web.ports[2]",    "services.web.restart",
                                          "services.web.mem_limit",   "services.web.cpus",
                                          "services.web.healthcheck.test", "services.web.healthcheck.interval",
                                          "services.web.image",       "networks.front.driver",
                                          "networks.front.subnet",    "volumes.data.external"};
  std::vector<std::string> found;
  for (const auto& problem : file.problems) found.push_back(problem.path);
  EXPECT_EQ(found, paths) << testing::PrintToString(problems_of(file));
}

TEST_F(DeploymentFileTest, LoadDeploymentListsEveryProblem) {
  write(app() / "d.json", R"({"services": {"a": {"image": "busybox", "build": "."}}, "extra": 1})");
  try {
    load_deployment(app() / "d.json");
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()), (app() / "d.json").string() +
                                             ": 2 problems\n  services.a.build: not supported by mcore (build the image "
                                             "first (mcore build is not available) and name it in `image`)\n"
                                             "  extra: unknown key");
    EXPECT_NE(error.hint().find("mcore config validate -f"), std::string::npos);
  }
}

TEST_F(DeploymentFileTest, SyntaxErrorsNameTheFileAndTheLine) {
  write(app() / "bad.json", "{\"services\": {\n  \"a\": }\n");
  EXPECT_NE(test::error_of([&] { read_deployment(app() / "bad.json"); }).find("line 2, column"), std::string::npos);
  write(app() / "bad.yaml", "services:\n  a: [unclosed\n");
  const std::string message = test::error_of([&] { read_deployment(app() / "bad.yaml"); });
  EXPECT_NE(message.find((app() / "bad.yaml").string() + " is not valid YAML: line"), std::string::npos) << message;
  EXPECT_NE(test::error_of([&] { read_deployment(app() / "absent.yaml"); }).find("cannot read deployment file"),
            std::string::npos);
  // Found by fuzz_deployment: a number too large for a double was a json out_of_range escaping as such.
  write(app() / "huge.json", "{\"name\": \"x\", \"services\": {\"a\": {\"cpus\": 3e3333}}}");
  const std::string huge = test::error_of([&] { read_deployment(app() / "huge.json"); });
  EXPECT_NE(huge.find((app() / "huge.json").string() + " is not valid JSON"), std::string::npos) << huge;
}

}  // namespace
}  // namespace mcore::engine
