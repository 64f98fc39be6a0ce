# Table-driven tests of runtime/router (suites router_*).
target_sources(runtime_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/router_test.cpp)
