// Linked into every target that links libarchive statically (cmake/LinkLibarchive.cmake).
//
// libarchive 3.6 keeps this helper of its tar writers in archive_write_set_format.o, which also refers
// to every writer libarchive has (7-Zip, xar, ...) and through them to libxml2, liblzma, libbz2 and
// nettle. Defined here, the static link takes the tar and pax writers alone. libarchive calls it only
// for entry types a format cannot store (sockets, unknown types), which mcore never hands it.
#include <archive.h>
#include <archive_entry.h>

#include <cerrno>

extern "C" void __archive_write_entry_filetype_unsupported(archive* handle, archive_entry* entry,
                                                           const char* format) {
  archive_set_error(handle, EINVAL, "%s: %s format cannot archive files with mode 0%lo",
                    archive_entry_pathname(entry), format, static_cast<unsigned long>(archive_entry_mode(entry)));
}
