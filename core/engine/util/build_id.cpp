#include "engine/util/build_id.hpp"

#include <elf.h>
#include <link.h>

#include <cstdint>
#include <cstring>

namespace mcore::engine {
namespace {

struct Search {
  std::uintptr_t address;
  std::optional<std::string> id;
};

bool holds(const dl_phdr_info& object, std::uintptr_t address) {
  for (int i = 0; i < object.dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = object.dlpi_phdr[i];
    const std::uintptr_t start = object.dlpi_addr + segment.p_vaddr;
    if (segment.p_type == PT_LOAD && address >= start && address - start < segment.p_memsz) return true;
  }
  return false;
}

std::optional<std::string> gnu_build_id(const dl_phdr_info& object) {
  for (int i = 0; i < object.dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = object.dlpi_phdr[i];
    if (segment.p_type != PT_NOTE) continue;
    const auto* notes = reinterpret_cast<const unsigned char*>(object.dlpi_addr + segment.p_vaddr);
    const std::size_t align = segment.p_align >= 8 ? 8 : 4;
    auto padded = [align](std::size_t size) { return (size + align - 1) / align * align; };
    for (std::size_t at = 0; at + sizeof(ElfW(Nhdr)) <= segment.p_memsz;) {
      ElfW(Nhdr) header;
      std::memcpy(&header, notes + at, sizeof header);
      const std::size_t name_at = at + sizeof header;
      const std::size_t desc_at = name_at + padded(header.n_namesz);
      if (desc_at + header.n_descsz > segment.p_memsz) break;
      if (header.n_type == NT_GNU_BUILD_ID && header.n_namesz == 4 && std::memcmp(notes + name_at, "GNU", 4) == 0) {
        static constexpr char kHex[] = "0123456789abcdef";
        std::string id;
        for (std::size_t k = 0; k < header.n_descsz; ++k) {
          id += kHex[notes[desc_at + k] >> 4];
          id += kHex[notes[desc_at + k] & 0xf];
        }
        return id;
      }
      at = desc_at + padded(header.n_descsz);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> build_id_of(const void* address) {
  Search search{reinterpret_cast<std::uintptr_t>(address), std::nullopt};
  ::dl_iterate_phdr(
      [](dl_phdr_info* object, std::size_t, void* data) -> int {
        auto& search = *static_cast<Search*>(data);
        if (!holds(*object, search.address)) return 0;
        search.id = gnu_build_id(*object);
        return 1;
      },
      &search);
  return search.id;
}

}  // namespace mcore::engine
