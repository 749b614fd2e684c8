# mcore_add_plugin(KIND <storage|network|resource|registry> NAME <name> SOURCES <files...>)
#
# Builds a driver plugin as a MODULE library named mcore-<kind>-<name>.so, the file name the loader
# looks for when the config selects driver <name> for role <kind>. Symbols are hidden except the
# descriptor that MCORE_PLUGIN exports. Installs into MCORE_PLUGIN_INSTALL_DIR.
function(mcore_add_plugin)
  cmake_parse_arguments(P "" "KIND;NAME" "SOURCES" ${ARGN})
  if(NOT P_KIND OR NOT P_NAME OR NOT P_SOURCES)
    message(FATAL_ERROR "mcore_add_plugin needs KIND, NAME and SOURCES")
  endif()
  set(target mcore-${P_KIND}-${P_NAME})
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(MCORE_PLUGIN_BUILD_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${MCORE_PLUGIN_BUILD_DIR})
  endif()
  target_link_libraries(${target} PRIVATE mcore::sdk)
  # A plugin must resolve every symbol at build time: the loader opens it with RTLD_NOW.
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  install(TARGETS ${target} LIBRARY DESTINATION ${MCORE_PLUGIN_INSTALL_DIR})
  # In-tree builds collect their plugins so that tests can depend on all of them.
  set_property(GLOBAL APPEND PROPERTY MCORE_IN_TREE_PLUGINS ${target})
endfunction()
