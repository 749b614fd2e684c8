#pragma once
// Podman's tmpcopyup: a tmpfs mounted over a directory of the image starts with what that directory
// held. Runs in the init, so it makes system calls only; the source is the container's own (hostile)
// content, so nothing in it is followed: symlinks are copied as links, and every open is relative to
// a directory descriptor, with O_NOFOLLOW.
namespace mcore::engine {

// Copies the tree below directory `from` into directory `to`: directories, regular files, symlinks,
// device nodes and FIFOs, with their modes and owners. Returns 0, or the errno of the first failure.
int copy_tree(int from, int to) noexcept;

}  // namespace mcore::engine
