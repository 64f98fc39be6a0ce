# Continuous-batching engine, sampler, paged KV bookkeeping, Llama forward.
find_package(PkgConfig REQUIRED)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
target_sources(troupe_gpu PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/backend.hpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu_backend.cpp
  ${CMAKE_CURRENT_LIST_DIR}/device_select.cpp
  ${CMAKE_CURRENT_LIST_DIR}/device_select.hpp
  ${CMAKE_CURRENT_LIST_DIR}/engine.cpp
  ${CMAKE_CURRENT_LIST_DIR}/engine.hpp
  ${CMAKE_CURRENT_LIST_DIR}/engine_worker.cpp
  ${CMAKE_CURRENT_LIST_DIR}/engine_worker.hpp
  ${CMAKE_CURRENT_LIST_DIR}/sampler.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sampler.hpp
  ${CMAKE_CURRENT_LIST_DIR}/../kv/block_manager.cpp
  ${CMAKE_CURRENT_LIST_DIR}/../kv/block_manager.hpp
  ${CMAKE_CURRENT_LIST_DIR}/../kv/kv_storage.cpp
  ${CMAKE_CURRENT_LIST_DIR}/../kv/kv_storage.hpp)
target_link_libraries(troupe_gpu PRIVATE PkgConfig::XXHASH)
