# Run journal, run store, result cache and configuration, on real files.
target_sources(runtime_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/config_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/journal_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/result_cache_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/run_store_test.cpp)
