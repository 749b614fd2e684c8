#include "namespace_bind.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>

#include "mcore/error.hpp"
#include "mcore/unique_fd.hpp"
#include "mcore/user_namespace.hpp"

namespace mcore::pasta {

NamespaceBind::NamespaceBind(const std::filesystem::path& netns, std::filesystem::path at)
    : netns_(netns), at_(std::move(at)) {
  if (!in_initial_user_namespace()) return;
  remove_namespace_bind(at_);
  UniqueFd file(::open(at_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!file) throw Error::from_errno("create " + at_.string());
  file.reset();
  if (::mount(netns_.c_str(), at_.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    const int error = errno;
    ::unlink(at_.c_str());
    throw Error("bind the container's network namespace " + netns_.string() + " for pasta", error);
  }
  bound_ = true;
}

NamespaceBind::~NamespaceBind() {
  if (bound_) remove_namespace_bind(at_);
}

void remove_namespace_bind(const std::filesystem::path& at) {
  // Detached: the namespace itself lives on in the container and in pasta.
  while (::umount2(at.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
  }
  ::unlink(at.c_str());
}

}  // namespace mcore::pasta
