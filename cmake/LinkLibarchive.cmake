# mcore_link_libarchive(TARGET): links libarchive into TARGET, statically when libarchive.a is present.
#
# The shared libarchive drags in libxml2, ICU, nettle, lzma and more (measured on the overlay plugin,
# which every `mcore run` loads: +2 MiB RSS and +3 ms per container start); the static archive links
# only the tar reader and writers mcore uses, with no dependencies of their own.
find_package(LibArchive REQUIRED)
find_library(MCORE_LIBARCHIVE_STATIC NAMES libarchive.a)

if(MCORE_LIBARCHIVE_STATIC)
  add_library(mcore-libarchive-shim OBJECT ${CMAKE_CURRENT_LIST_DIR}/libarchive_static_shim.cpp)
  target_include_directories(mcore-libarchive-shim PRIVATE ${LibArchive_INCLUDE_DIRS})
  set_target_properties(mcore-libarchive-shim PROPERTIES POSITION_INDEPENDENT_CODE ON)
endif()

function(mcore_link_libarchive target)
  if(MCORE_LIBARCHIVE_STATIC)
    target_link_libraries(${target} PRIVATE ${MCORE_LIBARCHIVE_STATIC})
    target_include_directories(${target} PRIVATE ${LibArchive_INCLUDE_DIRS})
    # The shim must be linked as an object: from inside a static library it would be pulled too late.
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "STATIC_LIBRARY")
      target_sources(${target} INTERFACE $<TARGET_OBJECTS:mcore-libarchive-shim>)
    else()
      target_sources(${target} PRIVATE $<TARGET_OBJECTS:mcore-libarchive-shim>)
    endif()
  else()
    target_link_libraries(${target} PRIVATE LibArchive::LibArchive)
  endif()
endfunction()
