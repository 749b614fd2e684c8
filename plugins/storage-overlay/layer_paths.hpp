#pragma once
// The pure rules of the layer store: layer ids to directory names, tar entry names to path components,
// whiteout names, and which extended attributes an image may carry. Header-only so that unit tests check
// them without loading the plugin.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mcore/error.hpp"

namespace mcore::overlay {

// Whether `layer_id` is a diff_id: "sha256:" and 64 lowercase hex digits.
inline bool is_layer_id(std::string_view layer_id) {
  constexpr std::string_view kPrefix = "sha256:";
  return layer_id.size() == kPrefix.size() + 64 && layer_id.starts_with(kPrefix) &&
         layer_id.find_first_not_of("0123456789abcdef", kPrefix.size()) == std::string_view::npos;
}

// A diff_id -> its hex, the layer's directory name. Throws Error for anything else, so no id can name a
// path outside the store.
inline std::string layer_hex(const std::string& layer_id) {
  if (!is_layer_id(layer_id)) {
    throw Error("invalid layer id \"" + layer_id + "\"", 0,
                "a layer id is a diff_id: \"sha256:\" followed by 64 lowercase hex digits");
  }
  return layer_id.substr(layer_id.size() - 64);
}

// A tar entry's name as components below the layer root: "./a//b/" -> {"a", "b"}; "." and "./" -> {}
// (the root itself). Refuses absolute names and ".." components (Error naming why).
inline std::vector<std::string> entry_components(std::string_view name) {
  if (name.starts_with('/')) throw Error("is an absolute path");
  std::vector<std::string> components;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t end = std::min(name.find('/', start), name.size());
    const std::string_view part = name.substr(start, end - start);
    if (part == "..") throw Error("has a \"..\" component");
    if (!part.empty() && part != ".") components.emplace_back(part);
    start = end + 1;
  }
  return components;
}

// What an entry's last component means to overlay.
struct WhiteoutName {
  enum class Kind { plain, whiteout, opaque, internal } kind = Kind::plain;
  std::string target;  // for `whiteout`: the name it deletes
};

// ".wh.NAME" deletes NAME from the layers below; ".wh..wh..opq" hides everything below in its directory;
// other ".wh..wh." names are aufs bookkeeping, ignored like Docker does.
inline WhiteoutName classify_whiteout(std::string_view name) {
  constexpr std::string_view kPrefix = ".wh.";
  if (!name.starts_with(kPrefix)) return {};
  if (name == ".wh..wh..opq") return {WhiteoutName::Kind::opaque, {}};
  if (name.starts_with(".wh..wh.")) return {WhiteoutName::Kind::internal, {}};
  const std::string_view target = name.substr(kPrefix.size());
  if (target.empty() || target == "." || target == "..") throw Error("is a whiteout of no file");
  return {WhiteoutName::Kind::whiteout, std::string(target)};
}

// Extended attributes taken from an archive. An allow-list: trusted.overlay.* (and user.overlay.*, its
// unprivileged twin) would let a layer forge whiteouts, redirects and metacopy; security.* other than file
// capabilities would let it choose SELinux/IMA labels; system.* and other trusted.* are not image content.
inline bool keep_xattr(std::string_view name) {
  if (name == "security.capability") return true;
  return name.starts_with("user.") && !name.starts_with("user.overlay.");
}

}  // namespace mcore::overlay
