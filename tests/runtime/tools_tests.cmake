# Tests of the built-in tools, the workspace and the HTTP clients. The HTTP
# servers they talk to are cpp-httplib servers on 127.0.0.1, started by the
# tests themselves (a test fixture only; the clients under test use libcurl).
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::HTTPLIB)
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
endif()

target_sources(runtime_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/http_client_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/openai_client_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tools_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/workspace_test.cpp)
target_link_libraries(runtime_tests PRIVATE PkgConfig::HTTPLIB)
