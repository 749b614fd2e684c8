// kill -9 at every step of pull, load, commit, rm, run and up. Each operation runs once under strace to
// find its steps: every call of a syscall that changes durable state (rename, unlink, mkdir, fsync,
// flock, mount, clone, execve...) in every process it starts. Then, once per step, it runs again with
// strace killing the process that makes that call (`-e inject=SYSCALL:signal=KILL:when=N`; strace counts
// per process). After each kill the store must hold: prune and image prune -a succeed, every image
// listed is complete and runs, the images in use (by a running container and by a container whose
// record is unreadable) are intact, names are unique, nothing prune left is owned by no record or image,
// and the operation succeeds when tried again.
//
// MCORE_FAULT_POINTS (default 4) bounds the kill points per syscall; 0 means every call (a soak run).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "mcore/atomic_file.hpp"
#include "oci_image_builder.hpp"
#include "registry_fixture.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The syscalls whose calls are kill points: each changes what is on disk or in the kernel, or starts
// a process that will.
constexpr const char* kStepSyscalls =
    "rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,rmdir,symlink,symlinkat,link,linkat,"
    "fsync,fdatasync,flock,mount,umount2,clone,clone3,vfork,execve";

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string hex_of(const std::string& digest) { return digest.substr(digest.find(':') + 1); }

// One operation under test: how to bring the store to the state before it, the command, and the check
// that it works when tried again after a kill.
struct Operation {
  std::string name;
  std::function<void()> prepare;
  std::vector<std::string> args;
  std::function<void()> retry;
};

// (syscall, N): kill the first process to make its Nth call of that syscall.
using KillPoint = std::pair<std::string, int>;

class KillPointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    if (!fs::exists("/usr/bin/strace")) GTEST_SKIP() << "strace is not installed: run scripts/install-deps";
    sandbox_ = std::make_unique<McoreSandbox>();
    box_archive_ = image_archive("box", "box:1", {});
    ASSERT_EQ(mcore({"load", "-i", box_archive_.string()}).exit_code, 0);
    // A running container and an exited one whose record a crash left unreadable: their images are in
    // use, whatever a kill does elsewhere.
    ASSERT_EQ(mcore({"run", "-d", "--name", "keeper", "box:1", "sleep", "1000"}).exit_code, 0);
    const fs::path ghost_archive = image_archive("ghost", "ghost:1", {LayerEntry::file("ghost", "boo\n")});
    ASSERT_EQ(mcore({"load", "-i", ghost_archive.string()}).exit_code, 0);
    const std::string ghost = trimmed(mcore({"run", "-d", "--name", "ghost", "ghost:1", "true"}).out);
    ASSERT_EQ(trimmed(mcore({"wait", ghost}).out), "0");
    ghost_image_ = image_id("ghost:1");
    box_image_ = image_id("box:1");
    std::ofstream(sandbox_->data_root() / "containers" / ghost / "container.json", std::ios::trunc).flush();
  }

  CommandResult mcore(const std::vector<std::string>& args) { return sandbox_->mcore(args); }

  // An OCI archive of a busybox image tagged `tag`, with `extra` entries in its layer.
  fs::path image_archive(const std::string& name, const std::string& tag, const Layer& extra) {
    OciImageBuilder builder(work_.path() / ("layout-" + name));
    Layer layer = {LayerEntry::directory("bin"), LayerEntry::file("bin/busybox", read_text("/bin/busybox"), 0755),
                   LayerEntry::directory("tmp", 01777), LayerEntry::directory("etc")};
    for (const char* applet : {"sh", "true", "sleep", "echo", "touch"}) {
      layer.push_back(LayerEntry::symlink(std::string("bin/") + applet, "busybox"));
    }
    layer.insert(layer.end(), extra.begin(), extra.end());
    builder.tag(builder.add_image({layer}, "amd64", "", {{"Env", {"PATH=/bin"}}}), tag);
    const fs::path archive = work_.path() / (name + ".tar");
    EXPECT_EQ(run_command({"/usr/bin/tar", "-C", builder.dir().string(), "-cf", archive.string(), "."}).exit_code, 0);
    return archive;
  }

  std::string image_id(const std::string& name) {
    auto inspected = nlohmann::json::parse(mcore({"inspect", "--type", "image", name}).out, nullptr, false);
    return inspected.is_array() && !inspected.empty() ? inspected[0].value("Id", "") : "";
  }

  std::vector<std::string> strace_argv(const std::vector<std::string>& strace_options, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/strace", "-f", "-qq"};
    argv.insert(argv.end(), strace_options.begin(), strace_options.end());
    const auto mcore_argv = sandbox_->mcore_argv(args);
    argv.insert(argv.end(), mcore_argv.begin(), mcore_argv.end());
    return argv;
  }

  // The operation's steps: for each step syscall, the most calls any one of its processes made.
  std::map<std::string, int> count_steps(const Operation& operation) {
    operation.prepare();
    const fs::path trace = work_.path() / "trace";
    auto traced = run_command(strace_argv({"-o", trace.string(), "-e", std::string("trace=") + kStepSyscalls}, operation.args));
    EXPECT_EQ(traced.exit_code, 0) << operation.name << " without a fault: " << traced.err;
    std::map<std::pair<std::string, std::string>, int> per_process;
    std::ifstream in(trace);
    static const std::regex call(R"(^(\d+)\s+([a-z0-9_]+)\()");
    for (std::string line; std::getline(in, line);) {
      std::smatch match;
      if (std::regex_search(line, match, call)) per_process[{match[1], match[2]}]++;
    }
    std::map<std::string, int> most;
    for (const auto& [key, count] : per_process) most[key.second] = std::max(most[key.second], count);
    return most;
  }

  // Every call when there are few, else `limit` spread evenly from the first call to the last.
  static std::vector<KillPoint> kill_points(const std::map<std::string, int>& steps) {
    const char* env = std::getenv("MCORE_FAULT_POINTS");
    const int limit = env ? std::atoi(env) : 4;
    std::vector<KillPoint> points;
    for (const auto& [syscall, count] : steps) {
      std::set<int> calls;
      if (limit <= 0 || count <= limit) {
        for (int n = 1; n <= count; ++n) calls.insert(n);
      } else {
        for (int i = 0; i < limit; ++i) calls.insert(1 + (count - 1) * i / (limit - 1));
      }
      for (int n : calls) points.emplace_back(syscall, n);
    }
    return points;
  }

  void kill_at_every_step(const Operation& operation) {
    const auto points = kill_points(count_steps(operation));
    ASSERT_FALSE(points.empty()) << operation.name << " made no step syscall";
    int killed = 0;
    for (const auto& [syscall, n] : points) {
      const std::string where = operation.name + " killed at " + syscall + " #" + std::to_string(n);
      SCOPED_TRACE(where);
      operation.prepare();
      auto faulted = run_command(strace_argv(
          {"-o", "/dev/null", "-e", "trace=" + syscall, "-e", "inject=" + syscall + ":signal=KILL:when=" + std::to_string(n)},
          operation.args));
      if (faulted.exit_code != 0) ++killed;
      // Whatever the killed command's children still do (a launcher, a supervisor) settles first.
      std::this_thread::sleep_for(100ms);
      expect_store_whole();
      operation.prepare();  // the checks' prune may have taken what the operation works on
      operation.retry();
      if (HasFailure()) {
        ADD_FAILURE() << "stopping after the first kill point that broke the store";
        return;
      }
    }
    std::cout << operation.name << ": " << points.size() << " kill points, " << killed << " ended the command\n";
    EXPECT_GT(killed, 0) << "no kill point ended " << operation.name;
  }

  // The invariants after a crash, checked after the cleanup verbs a user would run.
  void expect_store_whole() {
    auto pruned = mcore({"prune", "-f"});
    EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
    auto image_pruned = mcore({"image", "prune", "-a", "-f"});
    EXPECT_EQ(image_pruned.exit_code, 0) << image_pruned.err;

    const fs::path data = sandbox_->data_root();
    const auto index = nlohmann::json::parse(read_text(data / "images" / "index.json"), nullptr, false);
    ASSERT_TRUE(index.is_object()) << "images/index.json does not parse";
    std::set<std::string> owned_blobs, owned_layers, image_ids;
    for (const auto& image : index["images"]) {
      const std::string id = image.value("id", "");
      image_ids.insert(id);
      // Complete: manifest, config and every layer blob present; every layer unpacked; it runs.
      const std::string manifest_digest = image.value("manifest_digest", "");
      for (const std::string& digest : {id, manifest_digest}) {
        owned_blobs.insert(hex_of(digest));
        EXPECT_TRUE(fs::exists(data / "images/blobs/sha256" / hex_of(digest))) << "image " << id << " lacks " << digest;
      }
      const auto manifest =
          nlohmann::json::parse(read_text(data / "images/blobs/sha256" / hex_of(manifest_digest)), nullptr, false);
      if (manifest.is_object()) {
        for (const auto& layer : manifest.value("layers", nlohmann::json::array())) {
          const std::string digest = layer.value("digest", "");
          owned_blobs.insert(hex_of(digest));
          EXPECT_TRUE(fs::exists(data / "images/blobs/sha256" / hex_of(digest))) << "image " << id << " lacks " << digest;
        }
      }
      for (const auto& diff_id : image.value("layers", std::vector<std::string>{})) {
        owned_layers.insert(hex_of(diff_id));
        EXPECT_TRUE(fs::exists(data / "storage/overlay/layers" / hex_of(diff_id) / "diff"))
            << "image " << id << " lacks its unpacked layer " << diff_id;
      }
      auto ran = mcore({"run", "--rm", "--pull=never", id, "true"});
      EXPECT_EQ(ran.exit_code, 0) << "image " << id << " does not run: " << ran.err;
    }
    EXPECT_TRUE(image_ids.count(box_image_)) << "the running container's image is gone";
    EXPECT_TRUE(image_ids.count(ghost_image_)) << "the image of the container with an unreadable record is gone";
    auto keeper = nlohmann::json::parse(mcore({"inspect", "keeper"}).out, nullptr, false);
    EXPECT_TRUE(keeper.is_array() && !keeper.empty() && keeper[0]["State"].value("Running", false))
        << "the running container stopped";

    // Records: names unique; each container directory has its record; the layers they use are owned.
    std::set<std::string> records, names;
    for (const auto& entry : fs::directory_iterator(data / "containers")) {
      const std::string file = entry.path().filename();
      if (file == "names") continue;
      EXPECT_FALSE(file.starts_with(".new-")) << "prune left a staged record " << file;
      if (!entry.is_directory()) continue;
      EXPECT_TRUE(fs::exists(entry.path() / "container.json")) << "prune left container directory " << file << " without a record";
      records.insert(file);
      const auto record = nlohmann::json::parse(read_text(entry.path() / "container.json"), nullptr, false);
      if (!record.is_object()) continue;  // the ghost
      EXPECT_TRUE(names.insert(record.value("name", "")).second) << "two containers are named " << record.value("name", "");
      for (const auto& diff_id : record["spec"].value("image_layers", std::vector<std::string>{})) {
        owned_layers.insert(hex_of(diff_id));
      }
    }
    // Nothing prune left is owned by no record or image.
    for (const auto& entry : fs::directory_iterator(data / "images/blobs/sha256")) {
      EXPECT_TRUE(owned_blobs.count(entry.path().filename())) << "blob " << entry.path().filename() << " belongs to no image";
    }
    if (fs::exists(data / "images/blobs/tmp")) {
      EXPECT_TRUE(fs::is_empty(data / "images/blobs/tmp")) << "prune left a partial blob";
    }
    for (const auto& entry : fs::directory_iterator(data / "storage/overlay/layers")) {
      EXPECT_TRUE(owned_layers.count(entry.path().filename())) << "layer " << entry.path().filename() << " belongs to no image or record";
    }
    if (fs::exists(data / "storage/overlay/containers")) {
      for (const auto& entry : fs::directory_iterator(data / "storage/overlay/containers")) {
        EXPECT_TRUE(records.count(entry.path().filename())) << "storage of " << entry.path().filename() << " has no record";
      }
    }
    // No temporary file of an atomic write outside what containers themselves write.
    for (auto it = fs::recursive_directory_iterator(data); it != fs::recursive_directory_iterator(); ++it) {
      const std::string relative = fs::relative(it->path(), data).string();
      if (relative == "storage/overlay/containers" || relative == "storage/overlay/layers" ||
          (relative.starts_with("volumes/") && it->path().filename() == "_data")) {
        it.disable_recursion_pending();
        continue;
      }
      EXPECT_FALSE(is_atomic_write_leftover(it->path().filename().string()))
          << "an unfinished write is left: " << relative;
    }
    if (fs::exists(data / "volumes")) {
      for (const auto& entry : fs::directory_iterator(data / "volumes")) {
        EXPECT_FALSE(entry.path().filename().string().starts_with(".new-")) << "prune left a staged volume";
      }
    }
  }

  void expect_ok(const std::vector<std::string>& args) {
    auto result = mcore(args);
    EXPECT_EQ(result.exit_code, 0) << args[0] << " after the kill: " << result.err;
  }

  TempDir work_{"mcore-faults"};
  std::unique_ptr<McoreSandbox> sandbox_;
  fs::path box_archive_;
  std::string box_image_, ghost_image_;
};

TEST_F(KillPointsTest, Pull) {
  RegistryFixture registry;
  OciImageBuilder builder(work_.path() / "pushed");
  Layer base = {LayerEntry::directory("bin"), LayerEntry::file("bin/busybox", read_text("/bin/busybox"), 0755),
                LayerEntry::symlink("bin/true", "busybox")};
  Layer top = {LayerEntry::directory("data"), LayerEntry::file("data/x", "x\n")};
  builder.tag(builder.add_image({base, top}, "amd64", "", {{"Env", {"PATH=/bin"}}}), "latest");
  registry.push(builder.dir(), "pulled:1", "latest");
  const std::string reference = registry.host() + "/pulled:1";
  kill_at_every_step({"pull", [] {}, {"pull", "-q", reference}, [&] {
                        expect_ok({"pull", "-q", reference});
                        expect_ok({"run", "--rm", reference, "true"});
                      }});
}

TEST_F(KillPointsTest, Load) {
  const fs::path archive = image_archive("loaded", "loaded:1", {LayerEntry::file("loaded", "1\n")});
  kill_at_every_step({"load", [] {}, {"load", "-i", archive.string()}, [&] {
                        expect_ok({"load", "-i", archive.string()});
                        expect_ok({"run", "--rm", "loaded:1", "true"});
                      }});
}

TEST_F(KillPointsTest, Commit) {
  auto prepare = [&] {  // prune removes the stopped source after each kill
    if (mcore({"inspect", "source"}).exit_code == 0) return;
    EXPECT_EQ(mcore({"run", "--name", "source", "box:1", "touch", "/made"}).exit_code, 0);
  };
  kill_at_every_step({"commit", prepare, {"commit", "source", "committed:1"}, [&] {
                        expect_ok({"commit", "source", "committed:1"});
                        expect_ok({"run", "--rm", "committed:1", "sh", "-c", "test -e /made"});
                      }});
}

TEST_F(KillPointsTest, Rm) {
  auto prepare = [&] {
    if (mcore({"inspect", "victim"}).exit_code == 0) return;
    EXPECT_EQ(mcore({"run", "--name", "victim", "box:1", "touch", "/x"}).exit_code, 0);
  };
  kill_at_every_step({"rm", prepare, {"rm", "-f", "victim"}, [&] {
                        mcore({"rm", "-f", "victim"});
                        EXPECT_NE(mcore({"inspect", "victim"}).exit_code, 0) << "rm did not finish what the kill cut";
                        expect_ok({"run", "--name", "victim", "box:1", "true"});  // the name is free
                      }});
}

TEST_F(KillPointsTest, Run) {
  auto prepare = [&] { mcore({"rm", "-f", "runner"}); };
  kill_at_every_step({"run", prepare, {"run", "--name", "runner", "box:1", "touch", "/x"}, [&] {
                        mcore({"rm", "-f", "runner"});
                        expect_ok({"run", "--name", "runner", "box:1", "true"});
                        expect_ok({"rm", "runner"});
                      }});
}

TEST_F(KillPointsTest, Up) {
  const fs::path file = work_.path() / "app.json";
  std::ofstream(file) << nlohmann::json{
      {"name", "app"},
      {"services", {{"job", {{"image", "box:1"}, {"command", {"sh", "-c", "echo done > /data/marker"}}, {"volumes", {"data:/data"}}}}}},
      {"volumes", {{"data", nlohmann::json::object()}}}}.dump();
  // Not `down -v`: while the ghost's record cannot be read, any volume may be its, and none is removed.
  auto prepare = [&] { mcore({"down", "-f", file.string()}); };
  kill_at_every_step({"up", prepare, {"up", "-d", "-f", file.string()}, [&] {
                        expect_ok({"up", "-d", "-f", file.string()});
                        expect_ok({"down", "-f", file.string()});
                      }});
  const auto refused = mcore({"down", "-v", "-f", file.string()});
  EXPECT_NE(refused.err.find("cannot be read"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace mcore::test
