#include "oci/oci_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <iostream>

#include <nlohmann/json.hpp>

#include "engine/api/oci.hpp"

namespace mcore::oci {

void OciLog::debug(const std::string& message) const {
  if (debug_) write("debug", message);
}

void OciLog::error(const std::string& message) const {
  std::cerr << "mcore-oci: " << message << std::endl;
  write("error", message);
}

void OciLog::warning(const std::string& message) const {
  std::cerr << "mcore-oci: warning: " << message << std::endl;
  if (format_ == LogFormat::text || debug_) write("warning", message);
}

void OciLog::write(const char* level, const std::string& message) const {
  if (!file_) return;
  const std::string time = engine::now_rfc3339();
  const std::string line =
      format_ == LogFormat::json
          ? nlohmann::json{{"level", level}, {"msg", message}, {"time", time}}.dump() + "\n"
          : "time=\"" + time + "\" level=" + level + " msg=" + nlohmann::json(message).dump() + "\n";
  // O_APPEND: the shim and several verbs share one file; each line lands whole.
  const int fd = ::open(file_->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::cerr << "mcore-oci: cannot write the log " << file_->string() << std::endl;
    return;
  }
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    std::cerr << "mcore-oci: short write to the log " << file_->string() << std::endl;
  }
  ::close(fd);
}

}  // namespace mcore::oci
