#include "exclusive_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

#include "mcore/error.hpp"

namespace mcore::bridge {

ExclusiveLock::ExclusiveLock(const std::filesystem::path& file)
    : fd_(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
  if (!fd_) throw Error::from_errno("open " + file.string());
  int result;
  do {
    result = ::flock(fd_.get(), LOCK_EX);
  } while (result != 0 && errno == EINTR);
  if (result != 0) throw Error::from_errno("lock " + file.string());
}

}  // namespace mcore::bridge
