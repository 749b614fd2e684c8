// mcore import, save and load end to end: root filesystem tarballs (plain, gzip, zstd, standard input)
// that then run, archives in both formats through rmi and back, bad input leaving the store exactly as
// it was, and round trips with Podman in both directions.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <zstd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <tuple>


#include "oci_image_builder.hpp"
#include "registry_fixture.hpp"
#include "tar_writer.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

const char* const kTar = "/usr/bin/tar";
const char* const kGzip = "/usr/bin/gzip";
const char* const kPodman = "/usr/bin/podman";

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string random_name() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> digit(0, 35);
  std::string out;
  for (int i = 0; i < 8; ++i) out += "0123456789abcdefghijklmnopqrstuvwxyz"[digit(device)];
  return out;
}

// Everything a failed import or load must leave as it was: the blob files, the temporary blob directory,
// the unpacked layers, and the images with their names.
struct StoreState {
  std::set<std::string> blobs;
  std::set<std::string> blob_temporaries;
  std::set<std::string> layers;
  std::string index;

  bool operator==(const StoreState&) const = default;
};

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) names.insert(entry.path().filename().string());
  return names;
}

std::ostream& operator<<(std::ostream& out, const StoreState& state) {
  out << state.blobs.size() << " blobs, " << state.blob_temporaries.size() << " temporaries, "
      << state.layers.size() << " layers, index " << state.index;
  return out;
}

// The image layers of the busybox base every registry image here shares: busybox, its applets as
// symlinks, and /etc/gone and /data/old for the layer above to delete.
Layer busybox_layer() {
  Layer base = {
      LayerEntry::directory("bin"),  LayerEntry::file("bin/busybox", read_text("/bin/busybox"), 0755),
      LayerEntry::directory("etc"),  LayerEntry::file("etc/gone", "deleted above\n"),
      LayerEntry::directory("data"), LayerEntry::file("data/old", "hidden above\n")};
  for (const char* applet : {"sh", "cat", "test", "ls", "echo"}) {
    base.push_back(LayerEntry::symlink(std::string("bin/") + applet, "busybox"));
  }
  return base;
}

// What a container of the multi-layer image prints: the marker, that the whiteout hid /etc/gone, and
// that the opaque /data holds only the upper layer's file.
const std::vector<std::string> kCheckLayers = {"sh", "-c",
                                               "cat /etc/marker; test -e /etc/gone || echo gone; ls /data"};
std::string expected_check(const std::string& marker) { return marker + "\ngone\nnew\n"; }

class ImageArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  CommandResult mcore(const std::vector<std::string>& args, const std::string& input = "") const {
    return sandbox_->mcore(args, input);
  }

  // A busybox root filesystem with /etc/marker holding `marker`, as a tarball: plain (""), "gz" or "zst".
  fs::path rootfs_tarball(const std::string& marker, const std::string& compression = "") {
    const fs::path dir = work_.path() / ("rootfs-" + marker);
    const fs::path tar = work_.path() / (marker + ".tar");
    if (!fs::exists(tar)) {
      make_busybox_rootfs(dir);
      write_file(dir / "etc/marker", marker + "\n");
      const auto packed = run_command({kTar, "-C", dir.string(), "-cf", tar.string(), "."});
      EXPECT_EQ(packed.exit_code, 0) << packed.err;
    }
    if (compression.empty()) return tar;
    const fs::path compressed = tar.string() + "." + compression;
    if (compression == "gz") {
      const auto result = run_command({kGzip, "-kf", tar.string()});
      EXPECT_EQ(result.exit_code, 0) << result.err;
    } else {
      // libzstd, which mcore links anyway, rather than the zstd tool that install-deps does not install.
      const std::string plain = read_text(tar);
      std::string packed(ZSTD_compressBound(plain.size()), '\0');
      const std::size_t size = ZSTD_compress(packed.data(), packed.size(), plain.data(), plain.size(), 3);
      EXPECT_FALSE(ZSTD_isError(size)) << ZSTD_getErrorName(size);
      packed.resize(size);
      write_file(compressed, packed);
    }
    return compressed;
  }

  StoreState store_state() const {
    StoreState state;
    const fs::path data = sandbox_->data_root();
    state.blobs = names_in(data / "images/blobs/sha256");
    state.blob_temporaries = names_in(data / "images/blobs/tmp");
    state.layers = names_in(data / "storage/overlay/layers");
    for (const auto& name : names_in(data / "storage/overlay/l")) state.layers.insert("l/" + name);
    state.index = read_text(data / "images/index.json");
    return state;
  }

  void expect_runs(const std::string& image, const std::vector<std::string>& command,
                   const std::string& output) {
    std::vector<std::string> args = {"run", "--rm", image};
    args.insert(args.end(), command.begin(), command.end());
    const auto ran = mcore(args);
    EXPECT_EQ(ran.exit_code, 0) << ran.err;
    EXPECT_EQ(ran.out, output) << image;
  }

  // A two-layer image (busybox, then a whiteout, an opaque directory and /etc/marker) pushed to the
  // registry as `repo_tag`; returns its reference.
  std::string push_layered(const std::string& repo_tag, const std::string& marker,
                           BuiltImage* built = nullptr) {
    if (!registry_) registry_ = std::make_unique<RegistryFixture>();
    OciImageBuilder builder(work_.path() / ("layout-" + random_name()));
    const Layer top = {LayerEntry::whiteout("etc/gone"), LayerEntry::opaque("data"),
                       LayerEntry::file("data/new", "n\n"), LayerEntry::file("etc/marker", marker + "\n")};
    auto image = builder.add_image({busybox_layer(), top}, "amd64", "", {{"Env", {"PATH=/bin"}}});
    builder.tag(image, "latest");
    registry_->push(builder.dir(), repo_tag, "latest");
    if (built != nullptr) *built = image;
    return registry_->host() + "/" + repo_tag;
  }

  std::string pull_layered(const std::string& repo_tag, const std::string& marker,
                           BuiltImage* built = nullptr) {
    const std::string reference = push_layered(repo_tag, marker, built);
    const auto pulled = mcore({"pull", "-q", reference});
    EXPECT_EQ(pulled.exit_code, 0) << pulled.err;
    return reference;
  }

  std::string import(const fs::path& tarball, const std::string& name) {
    const auto imported = mcore({"import", tarball.string(), name});
    EXPECT_EQ(imported.exit_code, 0) << imported.err;
    return imported.out;
  }

  TempDir work_{"mcore-archive"};
  std::unique_ptr<RegistryFixture> registry_;
  std::unique_ptr<McoreSandbox> sandbox_;
};

// --- import -------------------------------------------------------------------------------------------

TEST_F(ImageArchiveTest, ImportsPlainGzipAndZstdTarballsThatRun) {
  for (const std::string compression : {"", "gz", "zst"}) {
    SCOPED_TRACE("compression \"" + compression + "\"");
    const std::string name = "imported-" + (compression.empty() ? std::string("plain") : compression) + ":1";
    const auto imported = mcore({"import", rootfs_tarball("import-marker", compression).string(), name});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    EXPECT_TRUE(imported.out.starts_with("sha256:") && imported.out.size() == 7 + 64 + 1) << imported.out;
    expect_runs(name, {"cat", "/etc/marker"}, "import-marker\n");
  }
  // The same tar, however compressed, is one layer: its digest is its diff_id.
  std::size_t layers = 0;
  for (const auto& name : names_in(sandbox_->data_root() / "storage/overlay/layers"))
    layers += name.size() == 64;
  EXPECT_EQ(layers, 1u);
  const auto listed = mcore({"images"});
  for (const char* repository : {"imported-plain", "imported-gz", "imported-zst"}) {
    EXPECT_NE(listed.out.find(repository), std::string::npos) << listed.out;
  }
}

TEST_F(ImageArchiveTest, ImportsADebootstrapStyleRootfsWithDeviceNodesThatStayClosed) {
  // Issue 14, item 9: "image layers may not carry devices" refused every debootstrap-built image.
  const fs::path dir = work_.path() / "rootfs-devices";
  make_busybox_rootfs(dir);
  fs::create_directories(dir / "opt");
  for (const auto& [path, type, device] : {std::tuple{"dev/console", S_IFCHR, ::makedev(5, 1)},
                                           std::tuple{"opt/console", S_IFCHR, ::makedev(5, 1)},
                                           std::tuple{"opt/disk", S_IFBLK, ::makedev(8, 0)}}) {
    ASSERT_EQ(::mknod((dir / path).c_str(), type | 0600, device), 0) << path;
  }
  const fs::path tar = work_.path() / "devices.tar";
  ASSERT_EQ(run_command({kTar, "-C", dir.string(), "-cf", tar.string(), "."}).exit_code, 0);
  import(tar, "debootstrapped:1");
  // The nodes are there, and the container's device rules keep them closed.
  const auto ran = mcore({"run", "--rm", "debootstrapped:1", "sh", "-c",
                          "test -c /opt/console && test -b /opt/disk && echo nodes; head -c 1 /opt/disk || echo closed"});
  EXPECT_EQ(ran.out, "nodes\nclosed\n") << ran.err;
  EXPECT_NE(ran.err.find("Operation not permitted"), std::string::npos) << ran.err;
}

TEST_F(ImageArchiveTest, ImportsFromStandardInputWithAMessage) {
  const std::string tarball = read_text(rootfs_tarball("stdin-marker", "gz"));
  const auto imported = mcore({"import", "-m", "from a pipe", "-", "piped:2"}, tarball);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  expect_runs("piped:2", {"cat", "/etc/marker"}, "stdin-marker\n");
  const std::string config =
      read_text(sandbox_->data_root() / "images/blobs/sha256" / imported.out.substr(7, 64));
  const auto json = nlohmann::json::parse(config);
  EXPECT_EQ(json["history"][0]["comment"], "from a pipe");
  EXPECT_EQ(json["os"], "linux");
  EXPECT_EQ(json["rootfs"]["diff_ids"].size(), 1u);
}

TEST_F(ImageArchiveTest, ImportRefusesBadTarballsAndKeepsTheStore) {
  import(rootfs_tarball("kept"), "kept:1");
  const StoreState before = store_state();

  const fs::path escaping = work_.path() / "escaping.tar";
  write_file(escaping, make_tar({tar_dir("etc"), tar_file("etc/ok", "ok\n"), tar_file("../x", "escaped\n")}));
  const fs::path truncated = work_.path() / "truncated.tar.gz";
  const std::string gz = read_text(rootfs_tarball("kept", "gz"));
  write_file(truncated, gz.substr(0, gz.size() / 2));
  const fs::path empty = work_.path() / "empty.tar";
  write_file(empty, "");

  for (const auto& [tarball, expected] :
       std::vector<std::pair<fs::path, std::string>>{{escaping, "\"../x\": has a \"..\" component"},
                                                     {truncated, "gzip"},
                                                     {empty, "the tarball is empty"}}) {
    const auto refused = mcore({"import", tarball.string(), "bad:1"});
    EXPECT_EQ(refused.exit_code, 125) << tarball;
    EXPECT_EQ(line_count(refused.err), 1u) << refused.err;
    EXPECT_NE(refused.err.find(expected), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("import " + tarball.string()), std::string::npos) << refused.err;
    EXPECT_EQ(store_state(), before) << refused.err;
  }
}

// --- save and load ------------------------------------------------------------------------------------

TEST_F(ImageArchiveTest, SaveRmiLoadRunsInBothFormats) {
  BuiltImage built;
  const std::string reference = pull_layered("archive/layered:1", "layered-marker", &built);
  expect_runs(reference, kCheckLayers, expected_check("layered-marker"));
  for (const std::string format : {"docker-archive", "oci-archive"}) {
    SCOPED_TRACE(format);
    const fs::path archive = work_.path() / (format + ".tar");
    const auto saved = mcore({"save", "--format", format, "-o", archive.string(), reference});
    ASSERT_EQ(saved.exit_code, 0) << saved.err;
    const auto listing = run_command({kTar, "-tf", archive.string()});
    EXPECT_NE(listing.out.find("index.json"), std::string::npos) << listing.out;
    EXPECT_EQ(listing.out.find("manifest.json") != std::string::npos, format == "docker-archive")
        << listing.out;

    const auto removed = mcore({"rmi", reference});
    ASSERT_EQ(removed.exit_code, 0) << removed.err;
    ASSERT_EQ(mcore({"images", "-q"}).out, "");
    EXPECT_TRUE(names_in(sandbox_->data_root() / "images/blobs/sha256").empty());

    const auto loaded = mcore({"load", "-i", archive.string()});
    ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
    EXPECT_EQ(loaded.out, "Loaded image: " + reference + "\n");
    expect_runs(reference, kCheckLayers, expected_check("layered-marker"));
    // The archive carried the original manifest: the loaded image is byte for byte the pulled one.
    const auto index = nlohmann::json::parse(read_text(sandbox_->data_root() / "images/index.json"));
    EXPECT_EQ(index["images"][0]["manifest_digest"], built.manifest_digest);
    EXPECT_EQ(index["images"][0]["id"], built.config_digest);
  }
}

TEST_F(ImageArchiveTest, SavesSeveralImagesToStandardOutputAndLoadsThemCompressedFromStandardInput) {
  import(rootfs_tarball("first"), "first:1");
  import(rootfs_tarball("second"), "second:1");
  const auto saved = mcore({"save", "first:1", "docker.io/library/second:1"});
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  const fs::path archive = work_.path() / "both.tar";
  write_file(archive, saved.out);
  ASSERT_EQ(run_command({kGzip, "-kf", archive.string()}).exit_code, 0);
  ASSERT_EQ(mcore({"rmi", "first:1", "second:1"}).exit_code, 0);

  const auto loaded = mcore({"load"}, read_text(archive.string() + ".gz"));
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_EQ(loaded.out,
            "Loaded image: docker.io/library/first:1\nLoaded image: docker.io/library/second:1\n");
  expect_runs("first:1", {"cat", "/etc/marker"}, "first\n");
  expect_runs("second:1", {"cat", "/etc/marker"}, "second\n");
}

TEST_F(ImageArchiveTest, AnImageSavedByIdLoadsUntagged) {
  const std::string id = import(rootfs_tarball("by-id"), "by-id:1").substr(0, 7 + 64);
  const fs::path archive = work_.path() / "by-id.tar";
  ASSERT_EQ(mcore({"save", "-o", archive.string(), id.substr(7, 12)}).exit_code, 0);
  ASSERT_EQ(mcore({"rmi", "by-id:1"}).exit_code, 0);
  const auto loaded = mcore({"load", "-q", "-i", archive.string()});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_EQ(loaded.out, "Loaded image ID: " + id + "\n");
  expect_runs(id.substr(7, 12), {"cat", "/etc/marker"}, "by-id\n");
}

TEST_F(ImageArchiveTest, BrokenArchivesFailAndLeaveTheStoreUnchanged) {
  import(rootfs_tarball("kept"), "kept:1");
  import(rootfs_tarball("lost"), "lost:1");
  const fs::path archive = work_.path() / "lost.tar";
  ASSERT_EQ(mcore({"save", "-o", archive.string(), "lost:1"}).exit_code, 0);
  ASSERT_EQ(mcore({"rmi", "lost:1"}).exit_code, 0);
  const StoreState before = store_state();
  const std::string whole = read_text(archive);

  // Flip one byte inside the layer blob (the largest member, early in the archive).
  std::string corrupt = whole;
  corrupt[whole.size() / 3] = static_cast<char>(corrupt[whole.size() / 3] ^ 0x5a);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {whole.substr(0, whole.size() / 2), "Truncated"},
      {whole.substr(0, whole.size() - 1024 - 300), "Truncated"},
      {corrupt, "does not match its digest"},
      {read_text(rootfs_tarball("kept")), "neither manifest.json nor index.json"},
  };
  int n = 0;
  for (const auto& [content, expected] : cases) {
    SCOPED_TRACE("case " + std::to_string(n));
    const fs::path broken = work_.path() / ("broken-" + std::to_string(n++) + ".tar");
    write_file(broken, content);
    const auto refused = mcore({"load", "-i", broken.string()});
    EXPECT_EQ(refused.exit_code, 125);
    EXPECT_EQ(line_count(refused.err), 1u) << refused.err;
    EXPECT_NE(refused.err.find(expected), std::string::npos) << refused.err;
    EXPECT_EQ(store_state(), before) << refused.err;
  }
  // The whole archive still loads.
  ASSERT_EQ(mcore({"load", "-i", archive.string()}).exit_code, 0);
  expect_runs("lost:1", {"cat", "/etc/marker"}, "lost\n");
}

TEST_F(ImageArchiveTest, SaveOfAnUnknownImageCreatesNoFile) {
  import(rootfs_tarball("known"), "known:1");
  const fs::path out_dir = work_.path() / "out";
  fs::create_directories(out_dir);
  const auto refused = mcore({"save", "-o", (out_dir / "x.tar").string(), "known:1", "unknown:1"});
  EXPECT_EQ(refused.exit_code, 125);
  EXPECT_EQ(refused.err, "mcore: No such image: unknown:1; 'mcore images' lists the local images\n");
  EXPECT_TRUE(fs::is_empty(out_dir)) << "neither the archive nor a temporary file";

  const auto bad_format = mcore({"save", "--format", "tar", "-o", (out_dir / "x.tar").string(), "known:1"});
  EXPECT_EQ(bad_format.exit_code, 125);
  EXPECT_NE(bad_format.err.find("unknown archive format \"tar\""), std::string::npos) << bad_format.err;
  EXPECT_TRUE(fs::is_empty(out_dir));
}

// --- Podman -------------------------------------------------------------------------------------------

// Podman with all of its state in a temporary directory: storage and run roots, a containers.conf
// (CONTAINERS_CONF) moving its tmp, events, network and copy directories there, and each command in a
// private mount namespace where /run is an empty tmpfs (runc's state) and /var/lib/containers is the
// temporary one (the blob info cache). Containers run with their cgroups below this test's own
// (relative --cgroup-parent, conmon kept out of cgroups), removed on destruction.
class Podman {
 public:
  Podman() : cgroup_parent_("mcore-test-podman-" + random_name()) {
    for (const char* sub : {"root", "runroot", "tmp", "networks", "copy", "var-lib-containers"}) {
      fs::create_directories(dir_.path() / sub);
    }
    const std::string d = dir_.path().string();
    write_file(dir_.path() / "containers.conf",
               "[containers]\n"
               "default_ulimits = [\"nofile=1024:1024\", \"nproc=1000:1000\"]\n\n"
               "[engine]\n"
               "runtime = \"runc\"\n"
               "cgroup_manager = \"cgroupfs\"\n"
               "events_logger = \"file\"\n"
               "events_logfile_path = \"" +
                   d +
                   "/tmp/events.log\"\n"
                   "tmp_dir = \"" +
                   d +
                   "/tmp\"\n"
                   "image_copy_tmp_dir = \"" +
                   d +
                   "/copy\"\n\n"
                   "[network]\n"
                   "network_config_dir = \"" +
                   d + "/networks\"\n");
  }

  ~Podman() {
    run({"rm", "-a", "-f"});
    run({"rmi", "-a", "-f"});
    remove_cgroup_tree(cgroup_parent_);
    // TempDir detaches anything still mounted below it (vfs mounts nothing) before removing it.
  }

  CommandResult run(const std::vector<std::string>& args) const {
    const std::string d = dir_.path().string();
    std::vector<std::string> argv = {"/usr/bin/unshare",
                                     "--mount",
                                     "--propagation",
                                     "private",
                                     "--",
                                     "/bin/sh",
                                     "-c",
                                     "mount --bind \"$0\" /var/lib/containers 2>/dev/null; mount -t tmpfs "
                                     "tmpfs /run || exit 1; exec \"$@\"",
                                     d + "/var-lib-containers",
                                     kPodman,
                                     "--root",
                                     d + "/root",
                                     "--runroot",
                                     d + "/runroot",
                                     "--storage-driver=vfs",
                                     "--cgroup-manager=cgroupfs",
                                     "--events-backend=file"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, "", {{"CONTAINERS_CONF", d + "/containers.conf"}});
  }

  // `podman run --rm` without network, its cgroups below the test's.
  CommandResult run_container(const std::string& image, const std::vector<std::string>& command) const {
    std::vector<std::string> args = {
        "run", "--rm", "--network=none", "--cgroups=no-conmon", "--cgroup-parent=" + cgroup_parent_, image};
    args.insert(args.end(), command.begin(), command.end());
    return run(args);
  }

  const fs::path& dir() const { return dir_.path(); }

 private:
  TempDir dir_{"mcore-podman"};
  std::string cgroup_parent_;
};

class PodmanRoundTrip : public ImageArchiveTest {
 protected:
  void SetUp() override {
    ImageArchiveTest::SetUp();
    if (IsSkipped()) return;
    if (!fs::exists(kPodman)) GTEST_SKIP() << "podman is not installed (scripts/install-deps installs it)";
    podman_ = std::make_unique<Podman>();
  }
  void TearDown() override { podman_.reset(); }

  std::unique_ptr<Podman> podman_;
};

TEST_F(PodmanRoundTrip, PodmanLoadsAndRunsWhatMcoreSaves) {
  const std::string reference = pull_layered("to-podman/layered:1", "to-podman");
  for (const std::string format : {"docker-archive", "oci-archive"}) {
    SCOPED_TRACE(format);
    const fs::path archive = work_.path() / (format + ".tar");
    ASSERT_EQ(mcore({"save", "--format", format, "-o", archive.string(), reference}).exit_code, 0);

    const auto loaded = podman_->run({"load", "-i", archive.string()});
    ASSERT_EQ(loaded.exit_code, 0) << loaded.out << loaded.err;
    EXPECT_NE(loaded.out.find("Loaded image: " + reference), std::string::npos) << loaded.out;
    const auto inspected = podman_->run(
        {"image", "inspect", "--format", "{{json .RepoTags}} {{len .RootFS.Layers}}", reference});
    ASSERT_EQ(inspected.exit_code, 0) << inspected.err;
    EXPECT_EQ(inspected.out, "[\"" + reference + "\"] 2\n");
    const auto ran = podman_->run_container(reference, kCheckLayers);
    EXPECT_EQ(ran.exit_code, 0) << ran.err;
    EXPECT_EQ(ran.out, expected_check("to-podman"));
    ASSERT_EQ(podman_->run({"rmi", "-f", reference}).exit_code, 0);

    if (format == "docker-archive") {
      // podman load takes the OCI layout of a one-image archive; make it read manifest.json too.
      const auto pulled = podman_->run({"pull", "docker-archive:" + archive.string()});
      ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
      const auto layers = podman_->run({"image", "inspect", "--format", "{{len .RootFS.Layers}}", reference});
      EXPECT_EQ(layers.out, "2\n") << layers.err;
      const auto again = podman_->run_container(reference, kCheckLayers);
      EXPECT_EQ(again.out, expected_check("to-podman")) << again.err;
      ASSERT_EQ(podman_->run({"rmi", "-f", reference}).exit_code, 0);
    }
  }
}

TEST_F(PodmanRoundTrip, McoreLoadsAndRunsWhatPodmanSaves) {
  const std::string reference = push_layered("from-podman/layered:1", "from-podman");
  const auto pulled = podman_->run({"pull", "--tls-verify=false", reference});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  for (const std::string format : {"docker-archive", "oci-archive"}) {
    SCOPED_TRACE(format);
    const fs::path archive = work_.path() / ("podman-" + format + ".tar");
    const auto saved = podman_->run({"save", "--format", format, "-o", archive.string(), reference});
    ASSERT_EQ(saved.exit_code, 0) << saved.err;

    const auto loaded = mcore({"load", "-i", archive.string()});
    ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
    EXPECT_EQ(loaded.out, "Loaded image: " + reference + "\n");
    expect_runs(reference, kCheckLayers, expected_check("from-podman"));
    ASSERT_EQ(mcore({"rmi", reference}).exit_code, 0);
  }
}

}  // namespace
}  // namespace mcore::test
