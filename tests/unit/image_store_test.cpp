#include "engine/image/image_store.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "engine/util/file_util.hpp"
#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

namespace fs = std::filesystem;
using test::error_of;

std::span<const std::byte> bytes_of(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

bool has(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// An image whose id is the digest of `config`; ids are only ever compared, so any content will do.
ImageRecord image(const std::string& config, std::vector<std::string> names) {
  ImageRecord record;
  record.id = sha256_digest(config);
  record.names = std::move(names);
  return record;
}

TEST(Digest, Sha256MatchesKnownVectors) {
  EXPECT_EQ(sha256_digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_digest("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 incremental;
  incremental.update("a");
  incremental.update(bytes_of("bc"));
  EXPECT_EQ(incremental.finish(), sha256_digest("abc"));
  EXPECT_THROW(incremental.update("more"), Error);
}

TEST(Digest, ValidatesDigests) {
  EXPECT_TRUE(is_valid_digest(sha256_digest("x")));
  EXPECT_FALSE(is_valid_digest("sha256:abc"));
  EXPECT_FALSE(is_valid_digest("sha512:" + std::string(64, 'a')));
  EXPECT_FALSE(is_valid_digest("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(is_valid_digest("sha256:../../../../etc/passwd" + std::string(36, 'a')));
}

TEST(ImageStore, PutsReadsAndVerifiesBlobs) {
  test::TempDir dir;
  ImageStore store(dir.path());
  const std::string content = R"({"hello":"world"})";
  const std::string digest = sha256_digest(content);
  EXPECT_FALSE(store.has_blob(digest));
  store.put_blob(digest, content);
  store.put_blob(digest, content);  // idempotent
  EXPECT_TRUE(store.has_blob(digest));
  EXPECT_EQ(store.blob_path(digest), dir.path() / "images/blobs/sha256" / digest.substr(7));
  EXPECT_EQ(store.read_blob(digest), content);

  const std::string wrong = sha256_digest("other");
  EXPECT_NE(error_of([&] { store.put_blob(wrong, content); }).find("hashes to " + digest), std::string::npos);
  EXPECT_FALSE(store.has_blob(wrong));
  EXPECT_NE(error_of([&] { store.read_blob(wrong); }).find("not in the image store"), std::string::npos);
  EXPECT_NE(error_of([&] { store.put_blob("sha256:../x", content); }).find("invalid digest"),
            std::string::npos);

  store.remove_blob(digest);
  store.remove_blob(digest);
  EXPECT_FALSE(store.has_blob(digest));
}

TEST(ImageStore, DetectsACorruptedBlobOnRead) {
  test::TempDir dir;
  ImageStore store(dir.path());
  const std::string digest = sha256_digest("original");
  store.put_blob(digest, "original");
  write_file_atomic(store.blob_path(digest), "tampered");
  const std::string message = error_of([&] { store.read_blob(digest); });
  EXPECT_NE(message.find("blob " + digest + " is corrupted"), std::string::npos) << message;
}

TEST(ImageStore, BlobWriterResumesAndVerifiesTheWholeBlob) {
  test::TempDir dir;
  ImageStore store(dir.path());
  const std::string content = std::string(100000, 'x') + "tail";
  const std::string digest = sha256_digest(content);
  {
    BlobWriter writer = store.begin_blob(digest);
    EXPECT_EQ(writer.offset(), 0u);
    writer.write(bytes_of(std::string_view(content).substr(0, 70000)));
    EXPECT_EQ(writer.offset(), 70000u);
  }  // interrupted: the partial file stays for the next attempt
  EXPECT_FALSE(store.has_blob(digest));
  BlobWriter writer = store.begin_blob(digest);
  ASSERT_EQ(writer.offset(), 70000u);
  writer.write(bytes_of(std::string_view(content).substr(70000)));
  writer.commit();
  EXPECT_EQ(store.read_blob(digest), content);
  EXPECT_TRUE(fs::is_empty(dir.path() / "images/blobs/tmp"));
}

TEST(ImageStore, ASecondBlobWriterWaitsForTheFirstAndFindsTheBlobPublished) {
  test::TempDir dir;
  ImageStore store(dir.path());
  const std::string content = "shared layer";
  const std::string digest = sha256_digest(content);
  BlobWriter first = store.begin_blob(digest);
  first.write(bytes_of(content));

  std::atomic<int> waits{0};
  std::atomic<bool> second_returned{false};
  std::thread second([&] {
    // Only told once, however long the first writer takes.
    BlobWriter writer = store.begin_blob(digest, [&] { waits++; });
    second_returned = true;
    EXPECT_TRUE(store.has_blob(digest));
    writer.discard();
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (waits == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(waits.load(), 1);
  EXPECT_FALSE(second_returned.load()) << "the second writer must wait while the first holds the blob";
  first.commit();
  second.join();
  EXPECT_TRUE(second_returned.load());
  EXPECT_EQ(waits.load(), 1);
  EXPECT_EQ(store.read_blob(digest), content);
}

// Writers racing for one blob: each either resumes a partial file that is really there or starts from
// zero. (A writer that released its lock before publishing let a waiter take the complete file for a
// partial one and then find it renamed away: "read the partial download" in parallel pulls.)
TEST(ImageStore, RacingWritersNeverResumeAFileThatIsBeingPublished) {
  test::TempDir dir;
  ImageStore store(dir.path());
  const std::string content(20000, 'z');
  const std::string digest = sha256_digest(content);
  std::atomic<int> resumed{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < 150; ++i) {
        BlobWriter writer = store.begin_blob(digest);
        if (writer.offset() != 0) {
          resumed++;
          writer.discard();
          continue;
        }
        writer.write(bytes_of(content));
        writer.commit();
      }
    });
  }
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(resumed.load(), 0) << "a writer resumed a complete blob that another was publishing";
  EXPECT_EQ(store.read_blob(digest), content);
}

TEST(ImageStore, LeftoversOfKilledAtomicWritesAreRemovedWithTheUnfinishedBlobs) {
  test::TempDir dir;
  ImageStore store(dir.path());
  const std::string digest = sha256_digest("kept");
  store.put_blob(digest, "kept");
  const auto blob_temp = dir.path() / "images/blobs/sha256" / ".0123.tmp-AbCdEf";
  const auto index_temp = dir.path() / "images" / ".index.json.tmp-XyZ123";
  std::ofstream(blob_temp) << "half a blob";
  std::ofstream(index_temp) << "{\"images\": [";
  std::uint64_t freed = 0;
  const auto removed = store.remove_unfinished_blobs(freed);
  EXPECT_EQ(removed.size(), 2u);
  EXPECT_FALSE(fs::exists(blob_temp));
  EXPECT_FALSE(fs::exists(index_temp));
  EXPECT_EQ(freed, std::string("half a blob").size() + std::string("{\"images\": [").size());
  EXPECT_EQ(store.read_blob(digest), "kept");
}

TEST(ImageStore, BlobWriterMismatchLeavesNothingVisible) {
  test::TempDir dir;
  ImageStore store(dir.path());
  const std::string digest = sha256_digest("expected");
  BlobWriter writer = store.begin_blob(digest);
  writer.write(bytes_of("received"));
  const std::string message = error_of([&] { writer.commit(); });
  EXPECT_NE(message.find("failed verification"), std::string::npos) << message;
  EXPECT_FALSE(store.has_blob(digest));
  EXPECT_TRUE(fs::is_empty(dir.path() / "images/blobs/tmp"));
  EXPECT_TRUE(fs::is_empty(dir.path() / "images/blobs/sha256"));
  // A fresh attempt starts from zero.
  EXPECT_EQ(store.begin_blob(digest).offset(), 0u);
}

TEST(ImageStore, DiscardDeletesThePartialFile) {
  test::TempDir dir;
  ImageStore store(dir.path());
  const std::string digest = sha256_digest("abc");
  BlobWriter writer = store.begin_blob(digest);
  writer.write(bytes_of("ab"));
  writer.discard();
  EXPECT_TRUE(fs::is_empty(dir.path() / "images/blobs/tmp"));
  EXPECT_EQ(store.begin_blob(digest).offset(), 0u);
}

TEST(ImageStore, AddsFindsListsAndUntagsImages) {
  test::TempDir dir;
  ImageStore store(dir.path());
  ImageRecord alpine =
      image("alpine config", {"docker.io/library/alpine:latest", "docker.io/library/alpine:3.19"});
  alpine.manifest_digest = sha256_digest("alpine manifest");
  alpine.repo_digests = {"docker.io/library/alpine@" + alpine.manifest_digest};
  alpine.layers = {sha256_digest("layer")};
  alpine.created = "2024-01-01T00:00:00Z";
  alpine.size = 7340032;
  store.add_image(alpine);
  store.add_image(image("busybox config", {"docker.io/library/busybox:latest"}));

  ASSERT_EQ(store.list().size(), 2u);
  const auto found = store.find("docker.io/library/alpine:3.19");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, alpine.id);
  EXPECT_EQ(found->manifest_digest, alpine.manifest_digest);
  EXPECT_EQ(found->layers, alpine.layers);
  EXPECT_EQ(found->created, alpine.created);
  EXPECT_EQ(found->size, alpine.size);
  EXPECT_EQ(store.find(alpine.id)->id, alpine.id);
  EXPECT_EQ(store.find(alpine.id.substr(7))->id, alpine.id);
  EXPECT_EQ(store.find(alpine.id.substr(0, 7 + 12))->id, alpine.id);
  EXPECT_EQ(store.find(alpine.id.substr(7, 12))->id, alpine.id);
  EXPECT_EQ(store.find(alpine.repo_digests[0])->id, alpine.id);
  EXPECT_FALSE(store.find("docker.io/library/nginx:latest"));
  EXPECT_FALSE(store.find(""));

  // Adding the same image again under another name keeps its other names.
  store.add_image(image("alpine config", {"localhost:5000/alpine:mine"}));
  EXPECT_EQ(store.find(alpine.id)->names.size(), 3u);

  const ImageRecord untagged = store.untag("docker.io/library/alpine:latest");
  EXPECT_EQ(untagged.id, alpine.id);
  EXPECT_FALSE(has(untagged.names, "docker.io/library/alpine:latest"));
  EXPECT_FALSE(store.find("docker.io/library/alpine:latest"));
  EXPECT_NE(error_of([&] { store.untag("docker.io/library/alpine:latest"); }).find("no image is named"),
            std::string::npos);

  store.remove_image(alpine.id);
  store.remove_image(alpine.id);
  EXPECT_FALSE(store.find(alpine.id));
  EXPECT_EQ(store.list().size(), 1u);
}

TEST(ImageStore, TagsMoveBetweenImages) {
  test::TempDir dir;
  ImageStore store(dir.path());
  const ImageRecord old_image = image("v1", {"docker.io/library/app:latest", "docker.io/library/app:1"});
  const ImageRecord new_image = image("v2", {"docker.io/library/app:latest"});
  store.add_image(old_image);
  store.add_image(new_image);
  EXPECT_EQ(store.find("docker.io/library/app:latest")->id, new_image.id);
  // The old image keeps existing with its other name, as in Docker.
  EXPECT_EQ(store.find(old_image.id)->names, std::vector<std::string>{"docker.io/library/app:1"});
  store.add_image(image("v3", {"docker.io/library/app:1"}));
  const auto dangling = store.find(old_image.id);
  ASSERT_TRUE(dangling);
  EXPECT_TRUE(dangling->names.empty());
  EXPECT_EQ(store.list().size(), 3u);
}

TEST(ImageStore, RefusesAnAmbiguousIdPrefix) {
  test::TempDir dir;
  ImageStore store(dir.path());
  // Find two configs whose ids share their first hex digit.
  std::vector<ImageRecord> records;
  for (int i = 0; records.size() < 2; ++i) {
    ImageRecord candidate = image("config " + std::to_string(i), {});
    if (records.empty() || candidate.id[7] == records[0].id[7]) records.push_back(candidate);
  }
  for (const auto& record : records) store.add_image(record);
  const std::string prefix = records[0].id.substr(7, 1);
  const std::string message = error_of([&] { store.find(prefix); });
  EXPECT_NE(message.find("is ambiguous"), std::string::npos) << message;
  EXPECT_EQ(store.find(records[0].id)->id, records[0].id);
  EXPECT_EQ(store.find(records[1].id.substr(7, 20))->id, records[1].id);
}

TEST(ImageStore, ReportsUnreferencedBlobs) {
  test::TempDir dir;
  ImageStore store(dir.path());
  const auto put = [&](const std::string& content) {
    const std::string digest = sha256_digest(content);
    store.put_blob(digest, content);
    return digest;
  };
  const std::string config = put("config");
  const std::string layer1 = put("layer one");
  const std::string layer2 = put("layer two");
  const std::string orphan = put("orphan layer");
  const nlohmann::json manifest_json = {
      {"schemaVersion", 2},
      {"config", {{"digest", config}, {"size", 6}}},
      {"layers", {{{"digest", layer1}, {"size", 9}}, {{"digest", layer2}, {"size", 9}}}}};
  const std::string manifest = put(manifest_json.dump());
  const std::string old_manifest = put("an old manifest");

  ImageRecord record;
  record.id = config;
  record.names = {"docker.io/library/app:latest"};
  record.manifest_digest = manifest;
  store.add_image(record);
  std::vector<std::string> expected = {orphan, old_manifest};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(store.unreferenced_blobs(), expected);

  store.remove_image(config);
  EXPECT_EQ(store.unreferenced_blobs().size(), 6u);
}

TEST(ImageStore, CollectionWaitsForWritersAndWritersShare) {
  test::TempDir dir;
  const ImageStore store(dir.path());
  std::optional<FileLock> pull = store.hold_for_writing();
  std::optional<FileLock> load = store.hold_for_writing();  // a second writer is not blocked

  std::atomic<bool> collecting{false};
  std::thread collector([&] {
    const FileLock gc = store.hold_for_collection();
    collecting = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(collecting) << "collection started while two writers held the store";
  pull.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(collecting) << "collection started while one writer still held the store";
  load.reset();
  collector.join();
  EXPECT_TRUE(collecting);
}

TEST(ImageStore, ConcurrentAddsKeepAValidIndex) {
  test::TempDir dir;
  constexpr int kThreads = 4;
  constexpr int kProcesses = 3;
  constexpr int kPerWorker = 10;
  const auto add_images = [&](const std::string& worker) {
    ImageStore store(dir.path());
    for (int i = 0; i < kPerWorker; ++i) {
      store.add_image(
          image(worker + " " + std::to_string(i), {"localhost/" + worker + ":" + std::to_string(i)}));
    }
  };

  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      try {
        add_images("process" + std::to_string(p));
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(add_images, "thread" + std::to_string(t));
  for (auto& thread : threads) thread.join();
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }

  ImageStore store(dir.path());
  EXPECT_EQ(store.list().size(), static_cast<std::size_t>((kThreads + kProcesses) * kPerWorker));
  for (int w = 0; w < kThreads + kProcesses; ++w) {
    const std::string worker =
        w < kThreads ? "thread" + std::to_string(w) : "process" + std::to_string(w - kThreads);
    for (int i = 0; i < kPerWorker; ++i) {
      const std::string name = "localhost/" + worker + ":" + std::to_string(i);
      EXPECT_TRUE(store.find(name)) << "lost " << name;
    }
  }
}

TEST(ImageStore, ADamagedIndexIsReportedWithAHint) {
  test::TempDir dir;
  ImageStore store(dir.path());
  write_file_atomic(store.root() / "index.json", "{not json");
  try {
    store.list();
    FAIL() << "accepted a damaged index";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("is damaged"), std::string::npos) << error.what();
    EXPECT_FALSE(error.hint().empty());
  }
}

}  // namespace
}  // namespace mcore::engine
