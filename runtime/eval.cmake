# Values and expression evaluation, the verifier and the JSON Schema
# validator, with the bounded regex search they share.
find_package(Threads REQUIRED)

target_sources(troupe_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/eval.cpp
  ${CMAKE_CURRENT_LIST_DIR}/eval.hpp
  ${CMAKE_CURRENT_LIST_DIR}/eval_functions.cpp
  ${CMAKE_CURRENT_LIST_DIR}/eval_functions.hpp
  ${CMAKE_CURRENT_LIST_DIR}/json_schema.cpp
  ${CMAKE_CURRENT_LIST_DIR}/json_schema.hpp
  ${CMAKE_CURRENT_LIST_DIR}/json_schema_keywords.cpp
  ${CMAKE_CURRENT_LIST_DIR}/json_schema_validator.hpp
  ${CMAKE_CURRENT_LIST_DIR}/regex_search.cpp
  ${CMAKE_CURRENT_LIST_DIR}/regex_search.hpp
  ${CMAKE_CURRENT_LIST_DIR}/value.cpp
  ${CMAKE_CURRENT_LIST_DIR}/verifier.cpp
  ${CMAKE_CURRENT_LIST_DIR}/verifier.hpp)

target_link_libraries(troupe_runtime PRIVATE Threads::Threads)
