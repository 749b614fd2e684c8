# Install-time script: removes the build tree's RUNPATH from every ELF file this install copied.
# CMAKE_INSTALL_MANIFEST_FILES lists them without DESTDIR.
foreach(installed IN LISTS CMAKE_INSTALL_MANIFEST_FILES)
  set(installed_file "$ENV{DESTDIR}${installed}")
  if(IS_SYMLINK "${installed_file}" OR NOT EXISTS "${installed_file}")
    continue()
  endif()
  file(READ "${installed_file}" magic LIMIT 4 HEX)
  if(magic STREQUAL "7f454c46")
    file(RPATH_REMOVE FILE "${installed_file}")
  endif()
endforeach()
