# FindCAF
# -------
# Finds the C++ Actor Framework (CAF) 0.17, which Debian ships without a CMake
# package configuration.
#
# Components: core (always searched), io, openssl.
#
# Imported targets, one per component found:
#   CAF::core, CAF::io, CAF::openssl
#
# Result variables:
#   CAF_FOUND, CAF_VERSION, CAF_INCLUDE_DIRS, CAF_<component>_FOUND,
#   CAF_<component>_LIBRARY
#
# Hints: CAF_ROOT (prefix) is honoured through the usual find_* rules.
#
# The version is read from caf/config.hpp, where CAF 0.17 defines
# CAF_VERSION as major * 10000 + minor * 100 + patch (0.17.6 -> 1706).

find_path(CAF_INCLUDE_DIR NAMES caf/config.hpp)
mark_as_advanced(CAF_INCLUDE_DIR)

if(CAF_INCLUDE_DIR AND EXISTS "${CAF_INCLUDE_DIR}/caf/config.hpp")
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" _caf_version_line
       REGEX "^#define CAF_VERSION [0-9]+")
  if(_caf_version_line MATCHES "CAF_VERSION ([0-9]+)")
    set(_caf_v "${CMAKE_MATCH_1}")
    math(EXPR _caf_major "${_caf_v} / 10000")
    math(EXPR _caf_minor "(${_caf_v} / 100) % 100")
    math(EXPR _caf_patch "${_caf_v} % 100")
    set(CAF_VERSION "${_caf_major}.${_caf_minor}.${_caf_patch}")
  endif()
  unset(_caf_version_line)
  unset(_caf_v)
endif()

set(_caf_components core ${CAF_FIND_COMPONENTS})
list(REMOVE_DUPLICATES _caf_components)

foreach(_comp IN LISTS _caf_components)
  if(NOT _comp MATCHES "^(core|io|openssl)$")
    message(FATAL_ERROR "FindCAF: unknown component '${_comp}' "
                        "(known: core, io, openssl)")
  endif()
  find_library(CAF_${_comp}_LIBRARY NAMES caf_${_comp})
  mark_as_advanced(CAF_${_comp}_LIBRARY)
  if(CAF_${_comp}_LIBRARY AND CAF_INCLUDE_DIR)
    set(CAF_${_comp}_FOUND TRUE)
  else()
    set(CAF_${_comp}_FOUND FALSE)
  endif()
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_INCLUDE_DIR CAF_core_LIBRARY
  VERSION_VAR CAF_VERSION
  HANDLE_COMPONENTS)

if(CAF_FOUND)
  set(CAF_INCLUDE_DIRS "${CAF_INCLUDE_DIR}")
  find_package(Threads REQUIRED)
  foreach(_comp IN LISTS _caf_components)
    if(CAF_${_comp}_FOUND AND NOT TARGET CAF::${_comp})
      add_library(CAF::${_comp} UNKNOWN IMPORTED)
      set_target_properties(CAF::${_comp} PROPERTIES
        IMPORTED_LOCATION "${CAF_${_comp}_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}")
      if(_comp STREQUAL "core")
        set_property(TARGET CAF::core APPEND PROPERTY
          INTERFACE_LINK_LIBRARIES Threads::Threads)
      else()
        set_property(TARGET CAF::${_comp} APPEND PROPERTY
          INTERFACE_LINK_LIBRARIES CAF::core)
      endif()
    endif()
  endforeach()
  if(TARGET CAF::openssl AND TARGET CAF::io)
    set_property(TARGET CAF::openssl APPEND PROPERTY
      INTERFACE_LINK_LIBRARIES CAF::io)
  endif()
endif()

unset(_caf_components)
unset(_comp)
