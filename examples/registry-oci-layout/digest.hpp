#pragma once
// sha256 digests as OCI spells them: "sha256:" and 64 lowercase hex digits. Computed with OpenSSL, which the
// SDK does not wrap: a plugin brings the libraries it needs.
#include <string>
#include <string_view>

namespace oci_layout {

// "sha256:<hex>" of `bytes`. Throws mcore::Error when OpenSSL fails.
std::string sha256_digest(std::string_view bytes);

// True for a well-formed sha256 digest, the only kind a blob path is ever built from: nothing else can
// name a file outside blobs/sha256/.
bool is_sha256_digest(std::string_view digest);

}  // namespace oci_layout
