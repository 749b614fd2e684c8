#pragma once
// The path pasta opens the container's network namespace by. pasta opens it after dropping its
// capabilities, and through /proc/PID/ns/net that open is a ptrace access check: against a process
// that holds capabilities pasta dropped (a container's init in the host's user namespace, before its
// exec) it fails with EACCES. A bind mount of the namespace opens without that check; it is what
// `ip netns` and Podman as root hand pasta. Rootless, pasta runs as the owner of the container's user
// namespace, which passes the check, and could not mount anyway: there the /proc path serves as is.
#include <filesystem>

namespace mcore::pasta {

class NamespaceBind {
 public:
  // In the initial user namespace, binds `netns` onto the file `at`; elsewhere only keeps `netns`.
  // Throws Error when the bind cannot be made.
  NamespaceBind(const std::filesystem::path& netns, std::filesystem::path at);
  ~NamespaceBind();  // the bind goes once pasta holds the namespace: pasta keeps its own descriptor
  NamespaceBind(const NamespaceBind&) = delete;
  NamespaceBind& operator=(const NamespaceBind&) = delete;

  const std::filesystem::path& path() const { return bound_ ? at_ : netns_; }
  // Whether path() is the bind. pasta then needs --no-netns-quit: it watches a namespace given as a
  // file and exits when the file goes, which the bind does as soon as pasta holds the namespace.
  bool bound() const { return bound_; }

 private:
  std::filesystem::path netns_;
  std::filesystem::path at_;
  bool bound_ = false;
};

// Unmounts and removes a bind a killed command left at `at`. Idempotent.
void remove_namespace_bind(const std::filesystem::path& at);

}  // namespace mcore::pasta
