#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include <boost/dll/shared_library.hpp>
#include <openssl/evp.h>
#include <spdlog/sinks/ostream_sink.h>

#include "kit_internal.hpp"
#include "mcore/lazy_library.hpp"

namespace mcore::conformance {

namespace fs = std::filesystem;

namespace {

// One plugin file, opened on first use and checked as mcore's loader checks it.
class PluginFile {
 public:
  explicit PluginFile(fs::path file) : file_(std::move(file)) {}

  std::shared_ptr<Driver> create(const HostContext& context) {
    const PluginDescriptor& descriptor = open();
    std::unique_ptr<Driver> driver = descriptor.create(context);
    if (!driver) throw Error(file_.string() + ": create() returned no driver");
    // The deleter owns the library: the driver's code stays mapped while the driver lives.
    return std::shared_ptr<Driver>(driver.release(), [library = library_](Driver* owned) { delete owned; });
  }

 private:
  const PluginDescriptor& open() {
    std::lock_guard lock(mutex_);
    if (descriptor_ != nullptr) return *descriptor_;
    const std::string what = file_.string();
    auto library = std::make_shared<boost::dll::shared_library>();
    boost::dll::fs::error_code error;
    library->load(boost::dll::fs::path(what), boost::dll::load_mode::rtld_now, error);
    if (error)
      throw Error(what + ": cannot be loaded: " + error.message(), 0, "build the plugin, or fix the path");
    const char* symbol = MCORE_STRINGIFY(MCORE_PLUGIN_SYMBOL);
    if (!library->has(symbol)) {
      throw Error(what + ": exports no " + symbol, 0, "export a descriptor with MCORE_PLUGIN(descriptor)");
    }
    const auto& descriptor = library->get_alias<const PluginDescriptor>(symbol);
    const std::string abi = std::to_string(descriptor.abi_major) + "." + std::to_string(descriptor.abi_minor);
    if (descriptor.abi_major != kAbiMajor || descriptor.abi_minor > kAbiMinor) {
      throw Error(what + ": plugin ABI " + abi + " is not loadable by SDK ABI " + std::to_string(kAbiMajor) +
                      "." + std::to_string(kAbiMinor),
                  0, "rebuild the plugin against this SDK");
    }
    if (descriptor.build_tag == nullptr || std::string(descriptor.build_tag) != MCORE_BUILD_TAG) {
      throw Error(what + ": built with \"" + (descriptor.build_tag ? descriptor.build_tag : "") +
                      "\", the kit with \"" MCORE_BUILD_TAG "\"",
                  0, "build the plugin and the test with the same compiler and libraries");
    }
    if (descriptor.name == nullptr || descriptor.create == nullptr ||
        to_string(descriptor.kind) == "unknown") {
      throw Error(what + ": its descriptor is incomplete (unknown kind, no name or no create function)");
    }
    library_ = std::move(library);
    descriptor_ = &descriptor;
    return descriptor;
  }

  fs::path file_;
  std::mutex mutex_;
  std::shared_ptr<boost::dll::shared_library> library_;
  const PluginDescriptor* descriptor_ = nullptr;
};

}  // namespace

DriverFactory plugin_factory(fs::path plugin_file) {
  auto plugin = std::make_shared<PluginFile>(std::move(plugin_file));
  return [plugin](const HostContext& context) { return plugin->create(context); };
}

bool running_as_root() { return ::geteuid() == 0; }

namespace detail {

Scratch::Scratch(const fs::path& parent, const std::string& prefix) {
  std::string pattern = (parent / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw Error::from_errno("create a directory like " + pattern);
  path_ = pattern;
}

Scratch::~Scratch() {
  std::error_code error;
  fs::remove_all(path_, error);
  if (error) ADD_FAILURE() << "could not remove " << path_ << ": " << error.message();
}

DriverHarness::DriverHarness(const fs::path& scratch_parent, const std::string& target_name)
    : scratch_(scratch_parent, "mcore-conformance"),
      log_(std::make_shared<std::ostringstream>()),
      logger_(std::make_shared<spdlog::logger>(target_name,
                                               std::make_shared<spdlog::sinks::ostream_sink_mt>(*log_))) {
  logger_->set_level(spdlog::level::debug);
}

DriverHarness::~DriverHarness() = default;

HostContext DriverHarness::context(nlohmann::json config, const std::string& role) const {
  HostContext context;
  context.logger = logger_;
  context.config = config.is_null() ? nlohmann::json::object() : std::move(config);
  context.config_path = role;
  context.data_root = scratch() / "data";
  context.state_root = scratch() / "state";
  return context;
}

void DriverHarness::report_log_on_failure() const {
  if (!::testing::Test::HasFailure()) return;
  logger_->flush();
  const std::string text = log_->str();
  if (!text.empty()) std::cout << "[ DRIVER LOG ]\n" << text;
}

std::string skip_reason(const AvailabilityCheck& unavailable, bool needs_root) {
  if (needs_root && !running_as_root()) return "needs root";
  if (unavailable) return unavailable();
  return {};
}

::testing::AssertionResult throws_error(const std::function<void()>& action, std::string* message) {
  try {
    action();
  } catch (const Error& error) {
    if (message != nullptr) *message = error.what();
    if (std::string(error.what()).empty())
      return ::testing::AssertionFailure() << "an mcore::Error without a message";
    return ::testing::AssertionSuccess();
  } catch (const std::exception& error) {
    return ::testing::AssertionFailure()
           << "threw " << typeid(error).name() << " (\"" << error.what() << "\"), not mcore::Error";
  } catch (...) {
    return ::testing::AssertionFailure() << "threw something that is not an mcore::Error";
  }
  return ::testing::AssertionFailure() << "expected an mcore::Error, nothing was thrown";
}

::testing::AssertionResult mentions(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected \"" << part << "\" in \"" << text << "\"";
}

std::string random_hex(std::size_t digits) {
  std::string out;
  while (out.size() < digits) {
    unsigned char byte = 0;
    if (::getrandom(&byte, 1, 0) != 1) throw Error::from_errno("read random bytes");
    out += "0123456789abcdef"[byte & 15];
  }
  return out;
}

// libcrypto is opened on first use, as the engine does, so the kit adds no link dependency.
std::string sha256_digest(std::string_view bytes) {
  static decltype(&EVP_sha256) sha256 = nullptr;
  static decltype(&EVP_Digest) digest = nullptr;
  static std::once_flag bound;
  std::call_once(bound, [] {
    static LazyLibrary library(MCORE_LIBCRYPTO_SONAME, "install OpenSSL 3 (libssl3)");
    library.bind("EVP_sha256", sha256);
    library.bind("EVP_Digest", digest);
  });
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (digest(bytes.data(), bytes.size(), raw, &length, sha256(), nullptr) != 1)
    throw Error("sha256: OpenSSL failed");
  std::string hex = "sha256:";
  char pair[3];
  for (unsigned i = 0; i < length; ++i) {
    std::snprintf(pair, sizeof pair, "%02x", raw[i]);
    hex += pair;
  }
  return hex;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by ") + ::strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

Child::Child(std::function<int()> body) {
  int go[2];
  if (::pipe2(go, O_CLOEXEC) != 0) throw Error::from_errno("pipe2");
  std::fflush(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(go[0]);
    ::close(go[1]);
    throw Error::from_errno("fork");
  }
  if (pid_ == 0) {
    ::close(go[1]);
    char byte;
    ssize_t n;
    do {
      n = ::read(go[0], &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) ::_exit(99);
    int code = 98;
    try {
      code = body();
    } catch (...) {
    }
    ::_exit(code);
  }
  ::close(go[0]);
  go_ = go[1];
}

Child::~Child() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    // Bounded: a process in a frozen group dies only once thawed.
    wait_until([&] { return ::waitpid(pid_, nullptr, WNOHANG) != 0; }, std::chrono::seconds(5));
  }
  if (go_ >= 0) ::close(go_);
}

void Child::start() {
  EXPECT_EQ(::write(go_, "g", 1), 1);
  ::close(go_);
  go_ = -1;
}

int Child::wait(std::chrono::milliseconds limit) {
  int status = 0;
  if (!wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, limit)) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    ADD_FAILURE() << "child " << pid_ << " did not end within " << limit.count() << " ms";
  }
  reaped_ = true;
  return status;
}

}  // namespace detail
}  // namespace mcore::conformance
