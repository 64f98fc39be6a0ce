target_sources(gpu_tests PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/block_manager_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/stories_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/smollm_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/engine_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/engine_worker_test.cpp)
find_package(nlohmann_json 3.10 REQUIRED)
target_link_libraries(gpu_tests PRIVATE nlohmann_json::nlohmann_json)
