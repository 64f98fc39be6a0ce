# Expression evaluation through compiled workflows, the verifier, and the
# JSON Schema validator.
target_sources(runtime_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/eval_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/json_schema_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/verifier_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/wf_fixture.hpp)
