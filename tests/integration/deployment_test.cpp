// Deployments through the mcore binary: a web server, a client that reaches it by name and a one-shot
// job, brought up from a JSON file, changed and brought up again (only the changed service recreated),
// then down -v; the same file in Compose YAML; and config validate on a bad file.
#include <gtest/gtest.h>

#include <chrono>

#include <fstream>

#include "oci_image_builder.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

class DeploymentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
    // A busybox image the services run, loaded from an OCI archive.
    OciImageBuilder builder(work_.path() / "layout");
    Layer layer = {LayerEntry::directory("bin"), LayerEntry::file("bin/busybox", read_text("/bin/busybox"), 0755),
                   LayerEntry::directory("tmp", 01777), LayerEntry::directory("etc")};
    for (const char* applet : {"sh", "httpd", "wget", "seq", "sleep", "echo", "cat", "true", "env", "grep", "cut"}) {
      layer.push_back(LayerEntry::symlink(std::string("bin/") + applet, "busybox"));
    }
    builder.tag(builder.add_image({layer}, "amd64", "", {{"Env", {"PATH=/bin"}}}), "box:1");
    const fs::path archive = work_.path() / "box.tar";
    ASSERT_EQ(run_command({"/usr/bin/tar", "-C", builder.dir().string(), "-cf", archive.string(), "."}).exit_code, 0);
    auto loaded = mcore({"load", "-i", archive.string()});
    ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  }

  CommandResult mcore(const std::vector<std::string>& args) { return sandbox_->mcore(args); }

  // web serves a page built from $GREETING; client fetches it by the service's name; job writes to a
  // volume and exits.
  nlohmann::json deployment(const std::string& greeting) {
    return {{"name", "shop"},
            {"services",
             {{"web",
               {{"image", "box:1"},
                {"environment", {{"GREETING", greeting}}},
                {"command", {"sh", "-c", "env | grep ^GREETING= | cut -d= -f2 > /tmp/index.html; exec httpd -f -p 80 -h /tmp"}},
                {"networks", {"front"}},
                {"healthcheck", {{"test", {"CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1/index.html"}},
                                 {"interval", "200ms"},
                                 {"retries", 20}}}}},
              {"client",
               {{"image", "box:1"},
                {"command", {"sh", "-c", "wget -q -O - http://web/index.html"}},
                {"networks", {"front"}},
                {"depends_on", {{"web", {{"condition", "service_healthy"}}}}}}},
              {"job",
               {{"image", "box:1"},
                {"command", {"sh", "-c", "echo done > /data/marker"}},
                {"volumes", {"data:/data"}},
                {"networks", {"front"}}}}}},
            {"networks", {{"front", {{"subnet", "10.233.60.0/24"}}}}},
            {"volumes", {{"data", nlohmann::json::object()}}}};
  }

  fs::path write(const std::string& name, const std::string& text) {
    const fs::path file = work_.path() / name;
    std::ofstream(file) << text;
    return file;
  }

  std::map<std::string, std::string> ids() {
    std::map<std::string, std::string> found;
    auto listed = mcore({"ps", "-a", "--deployment", "shop", "--format", "json"});
    for (const auto& container : nlohmann::json::parse(listed.out)) {
      found[container.value("Names", "")] = container.value("ID", "");
    }
    return found;
  }

  std::string volume_file(const std::string& name) {
    auto inspected = mcore({"volume", "inspect", name});
    if (inspected.exit_code != 0) return "";
    return read_text(fs::path(nlohmann::json::parse(inspected.out)[0].value("Mountpoint", "")) / "marker");
  }

  void expect_down_leaves_nothing(const fs::path& file) {
    auto down = mcore({"down", "-v", "-f", file.string()});
    EXPECT_EQ(down.exit_code, 0) << down.err;
    EXPECT_TRUE(ids().empty());
    EXPECT_EQ(mcore({"network", "ls", "-q"}).out.find("shop_front"), std::string::npos);
    EXPECT_EQ(mcore({"volume", "ls", "-q"}).out, "");
  }

  TempDir work_{"mcore-deployment"};
  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(DeploymentTest, UpChangeUpAgainAndDown) {
  const fs::path file = write("shop.json", deployment("hello").dump(2));
  auto up = mcore({"up", "-d", "-f", file.string()});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  const auto first = ids();
  ASSERT_EQ(first.size(), 3u) << up.out;
  // The client reached the server by its service name, after its healthcheck passed.
  EXPECT_EQ(mcore({"wait", "shop-client-1"}).out, "0\n");
  auto logs = mcore({"logs", "--deployment", "shop", "client"});
  EXPECT_EQ(logs.out, "client | hello\n") << logs.err;
  EXPECT_EQ(mcore({"wait", "shop-job-1"}).out, "0\n");
  EXPECT_EQ(volume_file("shop_data"), "done\n");

  // Only web changed: only web is recreated.
  write("shop.json", deployment("changed").dump(2));
  auto again = mcore({"up", "-d", "-f", file.string()});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("shop-web-1 recreated"), std::string::npos) << again.out;
  const auto second = ids();
  EXPECT_NE(second.at("shop-web-1"), first.at("shop-web-1"));
  EXPECT_EQ(second.at("shop-client-1"), first.at("shop-client-1"));
  EXPECT_EQ(second.at("shop-job-1"), first.at("shop-job-1"));
  EXPECT_EQ(mcore({"wait", "shop-client-1"}).out, "0\n");
  EXPECT_NE(mcore({"logs", "shop-client-1"}).out.find("changed"), std::string::npos);
  // Unchanged again: nothing recreated.
  auto same = mcore({"up", "-d", "-f", file.string()});
  EXPECT_EQ(same.out.find("recreated"), std::string::npos) << same.out;
  EXPECT_EQ(ids().at("shop-web-1"), second.at("shop-web-1"));

  expect_down_leaves_nothing(file);
}

TEST_F(DeploymentTest, TheSameDeploymentInComposeYaml) {
  const fs::path file = write("compose.yaml", R"(name: shop
services:
  web:
    image: box:${BOX_TAG:-1}
    environment:
      GREETING: ${GREETING_FROM_DOT_ENV}
    command: ["sh", "-c", "env | grep ^GREETING= | cut -d= -f2 > /tmp/index.html; exec httpd -f -p 80 -h /tmp"]
    networks: [front]
    healthcheck:
      test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1/index.html"]
      interval: 200ms
      retries: 20
  client:
    image: box:1
    command: sh -c "wget -q -O - http://web/index.html"
    networks: [front]
    depends_on:
      web:
        condition: service_healthy
  job:
    image: box:1
    command: ["sh", "-c", "echo done > /data/marker"]
    volumes:
      - data:/data
    networks:
      - front
networks:
  front:
    ipam:
      config:
        - subnet: 10.233.61.0/24
volumes:
  data:
)");
  write(".env", "GREETING_FROM_DOT_ENV=from-yaml\n");  // Compose's interpolation, from the file's .env
  auto valid = mcore({"config", "validate", "-f", file.string()});
  EXPECT_EQ(valid.exit_code, 0) << valid.err;
  auto up = mcore({"up", "-d", "-f", file.string()});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_EQ(mcore({"wait", "shop-client-1"}).out, "0\n");
  EXPECT_NE(mcore({"logs", "shop-client-1"}).out.find("from-yaml"), std::string::npos);
  EXPECT_EQ(mcore({"wait", "shop-job-1"}).out, "0\n");
  EXPECT_EQ(volume_file("shop_data"), "done\n");
  expect_down_leaves_nothing(file);
}

TEST_F(DeploymentTest, ABadFileIsRefusedWithEveryProblemAndNothingStarts) {
  write("missing-is-here.env", "A=1\n");
  const fs::path file = write("bad.json", nlohmann::json{
      {"name", "shop"},
      {"services",
       {{"web", {{"image", "box:1"}, {"ports", {"8080:80"}}, {"depends_on", {"api"}}, {"imagee", "x"}}},
        {"api", {{"image", "box:1"}, {"ports", {"8080:80"}}, {"depends_on", {"web"}}, {"env_file", {"nope.env"}}}},
        {"job", {{"image", 5}}}}}}.dump());
  auto validated = mcore({"config", "validate", "-f", file.string()});
  EXPECT_NE(validated.exit_code, 0);
  for (const char* path : {"services.web.imagee", "services.job.image", "depends_on", "ports[0]", "env_file[0]"}) {
    EXPECT_NE(validated.err.find(path), std::string::npos) << path << " missing from:\n" << validated.err;
  }
  auto up = mcore({"up", "-d", "-f", file.string()});
  EXPECT_EQ(up.exit_code, 125);
  EXPECT_TRUE(ids().empty()) << "a refused deployment started something";
  EXPECT_EQ(mcore({"network", "ls", "-q"}).out.find("shop_"), std::string::npos);
}

// What `run` would say about a service's container reaches `up`'s user with run's exit code, and an
// unhealthy dependency stops `up` before its dependents start.
TEST_F(DeploymentTest, AServiceThatCannotStartOrNeverTurnsHealthyStopsUpWithItsReason) {
  const fs::path missing = write("missing.json", nlohmann::json{
      {"name", "shop"}, {"services", {{"web", {{"image", "box:1"}, {"command", {"no-such-program"}}}}}}}.dump());
  auto up = mcore({"up", "-d", "-f", missing.string()});
  EXPECT_EQ(up.exit_code, 127) << up.out << up.err;
  EXPECT_NE(up.err.find("no-such-program"), std::string::npos) << up.err;
  EXPECT_EQ(mcore({"down", "-f", missing.string()}).exit_code, 0);

  const fs::path sick = write("sick.json", nlohmann::json{
      {"name", "shop"},
      {"services",
       {{"db", {{"image", "box:1"}, {"command", {"sleep", "1000"}},
                {"healthcheck", {{"test", {"CMD", "sh", "-c", "exit 3"}}, {"interval", "50ms"}, {"retries", 2}}}}},
        {"web", {{"image", "box:1"}, {"command", {"true"}}, {"depends_on", {{"db", {{"condition", "service_healthy"}}}}}}}}}}
      .dump());
  up = mcore({"up", "-d", "-f", sick.string()});
  EXPECT_EQ(up.exit_code, 125);
  EXPECT_NE(up.err.find("service db did not become healthy after 3 checks: its healthcheck exited 3"), std::string::npos)
      << up.err;
  const auto started = ids();
  EXPECT_EQ(started.count("shop-db-1"), 1u);
  EXPECT_EQ(started.count("shop-web-1"), 0u) << "web started although db never became healthy";
  EXPECT_EQ(mcore({"down", "-f", sick.string()}).exit_code, 0);
  EXPECT_TRUE(ids().empty());
}

// A check that hangs is killed at its timeout and counts as failed, as in Docker: `up` neither hangs
// nor leaves the check's process running in the container.
TEST_F(DeploymentTest, AHealthcheckPastItsTimeoutIsKilledAndFails) {
  const fs::path hung = write("hung.json", nlohmann::json{
      {"name", "shop"},
      {"services",
       {{"db", {{"image", "box:1"}, {"command", {"sleep", "1000"}},
                {"healthcheck", {{"test", {"CMD", "sleep", "600"}}, {"timeout", "300ms"}, {"interval", "50ms"},
                                 {"retries", 1}}}}},
        {"web", {{"image", "box:1"}, {"command", {"true"}}, {"depends_on", {{"db", {{"condition", "service_healthy"}}}}}}}}}}
      .dump());
  const auto begun = std::chrono::steady_clock::now();
  auto up = mcore({"up", "-d", "-f", hung.string()});
  const auto took = std::chrono::steady_clock::now() - begun;
  EXPECT_EQ(up.exit_code, 125) << up.out << up.err;
  EXPECT_NE(up.err.find("service db did not become healthy after 2 checks: its healthcheck ran longer than its "
                        "timeout (300 ms)"),
            std::string::npos)
      << up.err;
  EXPECT_LT(took, std::chrono::seconds(60)) << "up waited for the hung check instead of its timeout";
  // No `sleep 600` of the checks is left in the container.
  auto processes = mcore({"exec", "shop-db-1", "busybox", "ps", "-o", "args"});
  EXPECT_EQ(processes.exit_code, 0) << processes.err;
  EXPECT_EQ(processes.out.find("sleep 600"), std::string::npos) << processes.out;
  EXPECT_EQ(ids().count("shop-web-1"), 0u);
  EXPECT_EQ(mcore({"down", "-f", hung.string()}).exit_code, 0);
  EXPECT_TRUE(ids().empty());
}

}  // namespace
}  // namespace mcore::test
