#include "mcore/conformance/storage_conformance.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "kit_internal.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore::conformance {

namespace fs = std::filesystem;
using detail::mentions;
using detail::read_file;
using detail::throws_error;

namespace {

using detail::StringSink;

struct TarItem {
  std::string name;
  char type = '0';  // '0' file, '2' symlink, '5' directory
  std::string data;
  std::string link;
  unsigned mode = 0644;
};

TarItem tar_file(std::string name, std::string data) {
  return {std::move(name), '0', std::move(data), "", 0644};
}
TarItem tar_dir(std::string name) { return {std::move(name), '5', "", "", 0755}; }
TarItem tar_symlink(std::string name, std::string target) {
  return {std::move(name), '2', "", std::move(target), 0777};
}

// `value` in octal, zero-padded to width - 1 digits and NUL-terminated (the kit's values always fit).
void put_octal(char* field, std::size_t width, unsigned long long value) {
  for (std::size_t i = width - 1; i-- > 0; value >>= 3) field[i] = static_cast<char>('0' + (value & 7));
  field[width - 1] = '\0';
}

// An uncompressed ustar archive; names must fit ustar's 100 bytes, which the kit's own do.
std::string tar_archive(const std::vector<TarItem>& items) {
  std::string out;
  for (const auto& item : items) {
    char header[512] = {};
    std::memcpy(header, item.name.data(), std::min<std::size_t>(item.name.size(), 100));
    put_octal(header + 100, 8, item.mode);
    put_octal(header + 108, 8, 0);
    put_octal(header + 116, 8, 0);
    put_octal(header + 124, 12, item.data.size());
    put_octal(header + 136, 12, 1700000000);
    header[156] = item.type;
    std::memcpy(header + 157, item.link.data(), std::min<std::size_t>(item.link.size(), 100));
    std::memcpy(header + 257, "ustar", 6);
    std::memcpy(header + 263, "00", 2);
    std::memset(header + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char byte : header) sum += byte;
    std::snprintf(header + 148, 8, "%06o", sum);
    out.append(header, sizeof header);
    out += item.data;
    out.append((512 - item.data.size() % 512) % 512, '\0');
  }
  out.append(1024, '\0');
  return out;
}

std::string normalized(std::string name) {
  while (name.starts_with("./")) name.erase(0, 2);
  while (name.ends_with("/")) name.pop_back();
  return name;
}

struct TarListing {
  std::string name;
  char type;
  unsigned long long size;
};

// The entries of a tar archive (ustar, with pax and GNU long names), as far as it can be read.
std::vector<TarListing> tar_entries(const std::string& bytes) {
  std::vector<TarListing> entries;
  std::string long_name;
  for (std::size_t at = 0; at + 512 <= bytes.size();) {
    const char* header = bytes.data() + at;
    if (std::all_of(header, header + 512, [](char c) { return c == '\0'; })) break;
    const unsigned long long size = std::strtoull(std::string(header + 124, 12).c_str(), nullptr, 8);
    const char type = header[156];
    const std::string data = bytes.substr(at + 512, size);
    at += 512 + (size + 511) / 512 * 512;
    if (type == 'x') {
      for (std::size_t record = 0; record < data.size();) {
        const std::size_t space = data.find(' ', record);
        if (space == std::string::npos) break;
        const std::size_t length = std::strtoull(data.substr(record, space - record).c_str(), nullptr, 10);
        if (length == 0) break;
        const std::string field = data.substr(space + 1, length - (space - record) - 2);
        if (field.starts_with("path=")) long_name = field.substr(5);
        record += length;
      }
      continue;
    }
    if (type == 'L') {
      long_name = data.c_str();
      continue;
    }
    std::string name = std::string(header, strnlen(header, 100));
    // Only POSIX ustar has a name prefix there; GNU tar keeps times at that offset.
    if (std::memcmp(header + 257, "ustar\0", 6) == 0 && header[345] != '\0') {
      name = std::string(header + 345, strnlen(header + 345, 155)) + "/" + name;
    }
    if (!long_name.empty()) name = std::exchange(long_name, {});
    entries.push_back({normalized(name), type, size});
  }
  return entries;
}

class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  std::size_t read(std::span<std::byte> buffer) override {
    const std::size_t n = std::min(buffer.size(), data_.size() - offset_);
    std::memcpy(buffer.data(), data_.data() + offset_, n);
    offset_ += n;
    return n;
  }

 private:
  std::string data_;
  std::size_t offset_ = 0;
};

std::string layer_id() { return "sha256:" + detail::random_hex(64); }

// Forks a child that enters a private mount namespace (all its mounts die with it), performs `plan`'s
// mounts as the engine does, then runs `check`. Returns "" or what failed.
std::string in_mounted_root(const RootfsPlan& plan, const std::function<std::string()>& check) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return "pipe2 failed";
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(pipe_fds[0]);
    std::string failure;
    if (::unshare(CLONE_NEWNS) != 0) {
      failure = std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
    } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      failure = std::string("make / private: ") + std::strerror(errno);
    } else {
      for (const auto& m : plan.mounts) {
        if (!m.working_directory.empty() && ::chdir(m.working_directory.c_str()) != 0) {
          failure = "chdir " + m.working_directory.string() + ": " + std::strerror(errno);
          break;
        }
        if (::mount(m.source.c_str(), m.target.c_str(), m.fstype.empty() ? nullptr : m.fstype.c_str(),
                    m.flags, m.data.c_str()) != 0) {
          failure =
              "mount " + m.source + " on " + m.target.string() + " (" + m.data + "): " + std::strerror(errno);
          break;
        }
      }
      if (failure.empty()) {
        try {
          failure = check();
        } catch (const std::exception& error) {
          failure = error.what();
        }
      }
    }
    (void)!::write(pipe_fds[1], failure.data(), failure.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string failure;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) failure.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    failure += " (child " + detail::describe_status(status) + ")";
  return failure;
}

std::string expect_content(const fs::path& path, const std::string& expected) {
  std::error_code error;
  if (!fs::exists(path, error)) return path.string() + " is missing";
  const std::string seen = read_file(path);
  if (seen != expected) return path.string() + " holds \"" + seen + "\", expected \"" + expected + "\"";
  return {};
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool has_layer(const std::vector<LayerInfo>& layers, const std::string& id) {
  return std::any_of(layers.begin(), layers.end(), [&](const auto& layer) { return layer.id == id; });
}

bool mountinfo_mentions(const fs::path& path) {
  return read_file("/proc/self/mountinfo").find(path.string()) != std::string::npos;
}

bool same_plan(const RootfsPlan& a, const RootfsPlan& b) {
  if (a.rootfs != b.rootfs || a.upper_dir != b.upper_dir || a.mounts.size() != b.mounts.size()) return false;
  for (std::size_t i = 0; i < a.mounts.size(); ++i) {
    const auto &x = a.mounts[i], &y = b.mounts[i];
    if (x.source != y.source || x.target != y.target || x.fstype != y.fstype || x.flags != y.flags ||
        x.data != y.data || x.working_directory != y.working_directory)
      return false;
  }
  return true;
}

}  // namespace

void PrintTo(const StorageTarget& target, std::ostream* out) { *out << "storage driver " << target.name; }

struct StorageConformance::State {
  const StorageTarget* target = nullptr;
  std::unique_ptr<detail::DriverHarness> harness;
  std::shared_ptr<StorageDriver> driver;
  std::vector<std::string> containers;  // released at the end
  std::vector<std::string> layers;      // removed at the end

  // A directory outside the store, standing in for `mcore run --rootfs DIR`.
  fs::path lower(const std::string& name, const std::map<std::string, std::string>& files = {}) const {
    const fs::path dir = harness->scratch() / "lowers" / name;
    fs::create_directories(dir);
    for (const auto& [file, content] : files) std::ofstream(dir / file) << content;
    return dir;
  }
  RootfsPlan prepare(const RootfsRequest& request) {
    containers.push_back(request.container_id);
    return driver->prepare_rootfs(request);
  }
  LayerInfo apply(const std::string& id, std::string tar) {
    layers.push_back(id);
    StringSource source(std::move(tar));
    return driver->apply_layer(id, source);
  }
};

StorageConformance::StorageConformance() : state_(std::make_unique<State>()) {}
StorageConformance::~StorageConformance() = default;

void StorageConformance::SetUp() {
  const StorageTarget& target = GetParam();
  state_->target = &target;
  if (auto reason = detail::skip_reason(target.unavailable, false); !reason.empty()) GTEST_SKIP() << reason;
  state_->harness = std::make_unique<detail::DriverHarness>(target.scratch_parent, target.name);
  nlohmann::json config =
      target.config ? target.config(state_->harness->scratch()) : nlohmann::json::object();
  state_->driver = detail::make_driver<StorageDriver>(
      target.factory, state_->harness->context(config, "storage"), "StorageDriver");
}

void StorageConformance::TearDown() {
  if (state_->driver) {
    for (const auto& id : state_->containers) {
      try {
        state_->driver->release_rootfs(id);
      } catch (const std::exception& error) {
        ADD_FAILURE() << "release_rootfs " << id << " at the end of the case: " << error.what();
      }
    }
    for (const auto& id : state_->layers) {
      try {
        state_->driver->remove_layer(id);
      } catch (const std::exception& error) {
        ADD_FAILURE() << "remove_layer " << id << " at the end of the case: " << error.what();
      }
    }
  }
  state_->driver.reset();
  if (state_->harness) {
    state_->harness->report_log_on_failure();
    EXPECT_FALSE(mountinfo_mentions(state_->harness->scratch()))
        << "something stays mounted below the scratch dir";
  }
  state_->harness.reset();
}

TEST_P(StorageConformance, PrepareRootfsDescribesMountsAndMountsNothing) {
  const RootfsPlan plan = state_->prepare({"conformance-a", {}, {state_->lower("base", {{"file", "x"}})}});
  ASSERT_FALSE(plan.mounts.empty()) << "the plan has no mounts";
  EXPECT_EQ(plan.mounts.back().target, plan.rootfs) << "the last mount must mount the rootfs";
  EXPECT_TRUE(plan.rootfs.is_absolute()) << plan.rootfs;
  EXPECT_TRUE(fs::is_directory(plan.rootfs)) << "the mount point " << plan.rootfs << " does not exist";
  EXPECT_TRUE(fs::is_directory(plan.upper_dir))
      << "the writable layer " << plan.upper_dir << " does not exist";
  EXPECT_FALSE(mountinfo_mentions(state_->harness->scratch())) << "prepare_rootfs mounted something";
  EXPECT_TRUE(contains(state_->driver->list_rootfs(), "conformance-a")) << "list_rootfs misses the container";
}

TEST_P(StorageConformance, PrepareRootfsAgainReturnsTheSamePlanAndKeepsTheWritableLayer) {
  const RootfsRequest request{"conformance-a", {}, {state_->lower("base")}};
  const RootfsPlan first = state_->prepare(request);
  ASSERT_TRUE(fs::is_directory(first.upper_dir)) << first.upper_dir;
  std::ofstream(first.upper_dir / "kept.txt") << "written by the container";
  const RootfsPlan second = state_->prepare(request);
  EXPECT_TRUE(same_plan(first, second)) << "a second prepare_rootfs returned another plan";
  EXPECT_EQ(read_file(second.upper_dir / "kept.txt"), "written by the container")
      << "a second prepare_rootfs lost the writable layer's content";
  const auto listed = state_->driver->list_rootfs();
  EXPECT_EQ(std::count(listed.begin(), listed.end(), "conformance-a"), 1) << "listed once";
}

TEST_P(StorageConformance, ReleaseRootfsIsIdempotentAndForgetsTheContainer) {
  const RootfsPlan plan = state_->prepare({"conformance-a", {}, {state_->lower("base")}});
  const RootfsPlan other = state_->prepare({"conformance-b", {}, {state_->lower("base")}});
  std::ofstream(plan.upper_dir / "doomed.txt") << "x";
  state_->driver->release_rootfs("conformance-a");
  EXPECT_FALSE(fs::exists(plan.upper_dir)) << "release_rootfs left the writable layer " << plan.upper_dir;
  EXPECT_FALSE(contains(state_->driver->list_rootfs(), "conformance-a")) << "list_rootfs still shows it";
  EXPECT_TRUE(contains(state_->driver->list_rootfs(), "conformance-b"))
      << "another container was released too";
  EXPECT_TRUE(fs::is_directory(other.upper_dir)) << "another container's writable layer went";
  EXPECT_NO_THROW(state_->driver->release_rootfs("conformance-a")) << "a second release must be a no-op";
  EXPECT_NO_THROW(state_->driver->release_rootfs("conformance-never-prepared"))
      << "an unknown id is no error";
}

TEST_P(StorageConformance, PrepareRootfsRefusesMissingLowersAndLeavesNothing) {
  const fs::path missing = state_->harness->scratch() / "lowers" / "never-made";
  std::string message;
  EXPECT_TRUE(throws_error(
      [&] {
        state_->driver->prepare_rootfs({"conformance-a", {}, {missing}});
      },
      &message))
      << "a missing external lower";
  EXPECT_FALSE(contains(state_->driver->list_rootfs(), "conformance-a")) << "the refused container is listed";
  if (GetParam().layer_store) {
    const std::string absent = layer_id();
    EXPECT_TRUE(throws_error(
        [&] {
          state_->driver->prepare_rootfs({"conformance-b", {absent}, {}});
        },
        &message))
        << "a missing layer";
    EXPECT_FALSE(contains(state_->driver->list_rootfs(), "conformance-b"))
        << "the refused container is listed";
  }
  // Nothing half-made stands in the way of a correct request for the same id.
  const RootfsPlan plan = state_->prepare({"conformance-a", {}, {state_->lower("base")}});
  EXPECT_TRUE(fs::is_directory(plan.upper_dir));
}

TEST_P(StorageConformance, TheMountedPlanIsACopyOnWriteRoot) {
  if (!running_as_root()) GTEST_SKIP() << "mounting needs root";
  const fs::path base = state_->lower("base", {{"lower.txt", "from the lower"}});
  const RootfsPlan plan = state_->prepare({"conformance-a", {}, {base}});
  const fs::path root = plan.rootfs;
  const std::string failure = in_mounted_root(plan, [&] {
    if (auto wrong = expect_content(root / "lower.txt", "from the lower"); !wrong.empty()) return wrong;
    std::ofstream(root / "new.txt") << "written in the container";
    if (auto wrong = expect_content(root / "new.txt", "written in the container"); !wrong.empty())
      return wrong;
    return std::string();
  });
  ASSERT_EQ(failure, "") << "in the mounted root";
  EXPECT_EQ(read_file(plan.upper_dir / "new.txt"), "written in the container")
      << "the write missed upper_dir";
  EXPECT_FALSE(fs::exists(base / "new.txt")) << "the write reached the lower directory";
  EXPECT_FALSE(fs::exists(root / "lower.txt")) << "the root is still mounted outside the child's namespace";
}

TEST_P(StorageConformance, LayersApplyFindListAndRemoveIdempotently) {
  if (!GetParam().layer_store) GTEST_SKIP() << GetParam().name << " has no layer store";
  const std::string id = layer_id();
  EXPECT_EQ(state_->driver->find_layer(id), std::nullopt) << "found before it was applied";
  const LayerInfo info =
      state_->apply(id, tar_archive({tar_dir("etc"), tar_file("etc/conformance", "layer one"),
                                     tar_symlink("etc/link", "conformance")}));
  EXPECT_EQ(info.id, id);
  EXPECT_GT(info.size_bytes, 0u) << "an unpacked layer with a file has a size";
  const auto found = state_->driver->find_layer(id);
  ASSERT_TRUE(found.has_value()) << "find_layer misses the applied layer";
  EXPECT_EQ(found->id, id);
  EXPECT_EQ(found->size_bytes, info.size_bytes) << "find_layer and apply_layer disagree on the size";
  EXPECT_TRUE(has_layer(state_->driver->list_layers(), id)) << "list_layers misses it";

  state_->driver->remove_layer(id);
  EXPECT_EQ(state_->driver->find_layer(id), std::nullopt) << "found after remove_layer";
  EXPECT_FALSE(has_layer(state_->driver->list_layers(), id)) << "listed after remove_layer";
  EXPECT_NO_THROW(state_->driver->remove_layer(id)) << "a second remove_layer must be a no-op";
  EXPECT_NO_THROW(state_->driver->remove_layer(layer_id())) << "an unknown layer is no error";
}

TEST_P(StorageConformance, AFailedApplyLeavesNothingOfTheLayer) {
  if (!GetParam().layer_store) GTEST_SKIP() << GetParam().name << " has no layer store";
  const std::string id = layer_id();
  const std::string escaping =
      tar_archive({tar_file("ok.txt", "fine"), tar_file("../conformance-escape", "out")});
  std::string good = tar_archive({tar_file("big.bin", std::string(8192, 'x')), tar_file("after.txt", "y")});
  std::string message;
  EXPECT_TRUE(throws_error([&] { state_->apply(id, escaping); }, &message)) << "an entry escaping the layer";
  EXPECT_EQ(state_->driver->find_layer(id), std::nullopt) << "a refused layer is visible";
  EXPECT_TRUE(throws_error([&] { state_->apply(id, good.substr(0, 512 + 3000)); }, &message))
      << "a stream cut in the middle of a file";
  EXPECT_EQ(state_->driver->find_layer(id), std::nullopt) << "a truncated layer is visible";
  EXPECT_FALSE(has_layer(state_->driver->list_layers(), id)) << "a failed layer is listed";
  // Nothing half-applied stands in the way of the whole stream.
  EXPECT_EQ(state_->apply(id, good).id, id);
  EXPECT_TRUE(state_->driver->find_layer(id).has_value());
}

TEST_P(StorageConformance, DifferentLayersApplyConcurrently) {
  if (!GetParam().layer_store) GTEST_SKIP() << GetParam().name << " has no layer store";
  constexpr int kLayers = 4;
  std::vector<std::string> ids;
  for (int i = 0; i < kLayers; ++i) ids.push_back(layer_id());
  state_->layers.insert(state_->layers.end(), ids.begin(), ids.end());
  std::vector<std::string> failures(kLayers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kLayers; ++i) {
    threads.emplace_back([&, i] {
      try {
        std::vector<TarItem> items{tar_dir("data")};
        for (int file = 0; file < 50; ++file) {
          items.push_back(tar_file("data/f" + std::to_string(file), std::string(1000 + i, char('a' + i))));
        }
        StringSource source(tar_archive(items));
        state_->driver->apply_layer(ids[i], source);
      } catch (const std::exception& error) {
        failures[i] = error.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kLayers; ++i) {
    EXPECT_EQ(failures[i], "") << "apply_layer " << ids[i] << " alongside others";
    EXPECT_TRUE(state_->driver->find_layer(ids[i]).has_value()) << ids[i];
  }
}

TEST_P(StorageConformance, MountedLayersStackInOrder) {
  if (!GetParam().layer_store) GTEST_SKIP() << GetParam().name << " has no layer store";
  if (!running_as_root()) GTEST_SKIP() << "mounting needs root";
  const std::string lower = layer_id(), upper = layer_id();
  state_->apply(lower, tar_archive({tar_dir("etc"), tar_file("etc/shadowed", "lower"),
                                    tar_file("etc/only", "kept"), tar_symlink("etc/link", "only")}));
  state_->apply(upper, tar_archive({tar_dir("etc"), tar_file("etc/shadowed", "upper")}));
  const RootfsPlan plan = state_->prepare({"conformance-a", {lower, upper}, {}});
  const fs::path root = plan.rootfs;
  const std::string failure = in_mounted_root(plan, [&] {
    for (auto [file, expected] :
         {std::pair{"etc/shadowed", "upper"}, {"etc/only", "kept"}, {"etc/link", "kept"}}) {
      if (auto wrong = expect_content(root / file, expected); !wrong.empty()) return wrong;
    }
    return std::string();
  });
  EXPECT_EQ(failure, "") << "in the mounted root";
}

TEST_P(StorageConformance, AppliesTheTargetsLayerTarball) {
  if (!GetParam().layer_store) GTEST_SKIP() << GetParam().name << " has no layer store";
  if (!GetParam().layer_tarball) GTEST_SKIP() << "the target gives no layer tarball";
  const std::string tar = read_file(GetParam().layer_tarball());
  ASSERT_FALSE(tar.empty()) << "the target's layer tarball is empty or unreadable";
  const std::string id = layer_id();
  const LayerInfo info = state_->apply(id, tar);
  EXPECT_GT(info.size_bytes, 0u);
  ASSERT_TRUE(state_->driver->find_layer(id).has_value());
  if (!running_as_root()) GTEST_SKIP() << "checking the mounted layer needs root";
  const RootfsPlan plan = state_->prepare({"conformance-a", {id}, {}});
  const fs::path root = plan.rootfs;
  const auto entries = tar_entries(tar);
  ASSERT_TRUE(std::any_of(entries.begin(), entries.end(), [](const auto& e) { return e.type == '0'; }))
      << "the target's tarball has no regular file to look for";
  const std::string failure = in_mounted_root(plan, [&] {
    for (const auto& entry : entries) {
      if (entry.type != '0' && entry.type != '\0') continue;
      struct stat st {};
      if (::lstat((root / entry.name).c_str(), &st) != 0) return entry.name + " is missing from the root";
      if (static_cast<unsigned long long>(st.st_size) != entry.size) return entry.name + " has another size";
    }
    return std::string();
  });
  EXPECT_EQ(failure, "") << "in the mounted root";
}

TEST_P(StorageConformance, WriteDiffReportsTheWritableLayersChanges) {
  if (!GetParam().write_diff) GTEST_SKIP() << GetParam().name << " has no write_diff";
  const RootfsPlan plan =
      state_->prepare({"conformance-a", {}, {state_->lower("base", {{"untouched", "x"}})}});
  fs::create_directories(plan.upper_dir / "added-dir");
  std::ofstream(plan.upper_dir / "added-dir" / "file.txt") << "a change";
  StringSink sink;
  state_->driver->write_diff("conformance-a", sink);
  EXPECT_EQ(sink.data.size() % 512, 0u) << "a tar stream is made of 512-byte blocks";
  std::vector<std::string> names;
  for (const auto& entry : tar_entries(sink.data)) names.push_back(entry.name);
  EXPECT_TRUE(contains(names, "added-dir/file.txt")) << "the diff misses the new file";
  EXPECT_FALSE(contains(names, "untouched")) << "the diff holds a file of the lower directory";
}

TEST_P(StorageConformance, TheDefaultOptionalMethodsThrowENOTSUP) {
  if (GetParam().layer_store && GetParam().write_diff)
    GTEST_SKIP() << "the driver implements every optional method";
  const auto expect_enotsup = [](const char* what, const std::function<void()>& action) {
    try {
      action();
      ADD_FAILURE() << what << ": nothing thrown";
    } catch (const Error& error) {
      EXPECT_EQ(error.error_number(), ENOTSUP) << what << ": " << error.what();
    }
  };
  if (!GetParam().layer_store) {
    StringSource source(tar_archive({}));
    expect_enotsup("find_layer", [&] { state_->driver->find_layer(layer_id()); });
    expect_enotsup("list_layers", [&] { state_->driver->list_layers(); });
    expect_enotsup("apply_layer", [&] { state_->driver->apply_layer(layer_id(), source); });
    expect_enotsup("remove_layer", [&] { state_->driver->remove_layer(layer_id()); });
  }
  if (!GetParam().write_diff) {
    state_->prepare({"conformance-a", {}, {state_->lower("base")}});
    StringSink sink;
    expect_enotsup("write_diff", [&] { state_->driver->write_diff("conformance-a", sink); });
  }
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StorageConformance);

namespace detail {
int link_storage_conformance() { return 0; }
}  // namespace detail

}  // namespace mcore::conformance
