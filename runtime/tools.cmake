# The built-in tools (tools*.cpp), the workspace they are confined to, and
# the HTTP clients: http_get's and the OpenAI-compatible model client's,
# both over libcurl.
find_package(CURL REQUIRED)

target_sources(troupe_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/http_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_client.hpp
  ${CMAKE_CURRENT_LIST_DIR}/openai_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/openai_client.hpp
  ${CMAKE_CURRENT_LIST_DIR}/tools.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tools.hpp
  ${CMAKE_CURRENT_LIST_DIR}/tools_builtin.hpp
  ${CMAKE_CURRENT_LIST_DIR}/tools_files.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tools_shell.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tools_text.cpp
  ${CMAKE_CURRENT_LIST_DIR}/workspace.cpp
  ${CMAKE_CURRENT_LIST_DIR}/workspace.hpp)

find_package(Threads REQUIRED)
target_link_libraries(troupe_runtime PRIVATE CURL::libcurl Threads::Threads)
