#pragma once
// mcore-oci's --log file: what containerd's shim and Podman read back when a verb fails. With
// --log-format json, one object per line ({"level":"error","msg":...,"time":...}); Podman parses the
// whole file as one object, so nothing is written on success unless --debug asks for it.
#include <filesystem>
#include <optional>
#include <string>

namespace mcore::oci {

enum class LogFormat { text, json };

class OciLog {
 public:
  OciLog() = default;
  OciLog(std::optional<std::filesystem::path> file, LogFormat format, bool debug)
      : file_(std::move(file)), format_(format), debug_(debug) {}

  void debug(const std::string& message) const;
  // Also printed to stderr, one line.
  void error(const std::string& message) const;
  // Printed to stderr; in the file only in text format or with --debug (Podman reads a JSON log as one
  // object, so a verb that succeeds leaves nothing there).
  void warning(const std::string& message) const;

 private:
  void write(const char* level, const std::string& message) const;

  std::optional<std::filesystem::path> file_;
  LogFormat format_ = LogFormat::text;
  bool debug_ = false;
};

}  // namespace mcore::oci
