# Run journal, run store, result cache and troupe.toml configuration.
find_package(PkgConfig REQUIRED)
# A prefix of our own: gpu/ checks libxxhash under XXHASH in its own scope.
pkg_check_modules(TROUPE_RUNTIME_XXHASH REQUIRED IMPORTED_TARGET libxxhash)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)

target_sources(troupe_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config.hpp
  ${CMAKE_CURRENT_LIST_DIR}/config_reader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config_reader.hpp
  ${CMAKE_CURRENT_LIST_DIR}/journal.cpp
  ${CMAKE_CURRENT_LIST_DIR}/journal.hpp
  ${CMAKE_CURRENT_LIST_DIR}/result_cache.cpp
  ${CMAKE_CURRENT_LIST_DIR}/result_cache.hpp
  ${CMAKE_CURRENT_LIST_DIR}/result_cache_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/run_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/run_store.hpp
  ${CMAKE_CURRENT_LIST_DIR}/run_store_resume.cpp
  ${CMAKE_CURRENT_LIST_DIR}/simhash.cpp
  ${CMAKE_CURRENT_LIST_DIR}/simhash.hpp)
target_link_libraries(troupe_runtime PRIVATE
  PkgConfig::TROUPE_RUNTIME_XXHASH OpenSSL::Crypto)
