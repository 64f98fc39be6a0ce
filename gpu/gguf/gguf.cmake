# The GGUF layer: a validating, memory-mapped reader and an atomic writer.
# Included by gpu/CMakeLists.txt; no CUDA, no CAF.
target_sources(troupe_gpu PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/gguf_error.hpp
  ${CMAKE_CURRENT_LIST_DIR}/gguf_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gguf_file.hpp
  ${CMAKE_CURRENT_LIST_DIR}/gguf_parser.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gguf_parser.hpp
  ${CMAKE_CURRENT_LIST_DIR}/gguf_tensor_infos.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gguf_value.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gguf_value.hpp
  ${CMAKE_CURRENT_LIST_DIR}/gguf_views.hpp
  ${CMAKE_CURRENT_LIST_DIR}/gguf_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gguf_writer.hpp
  ${CMAKE_CURRENT_SOURCE_DIR}/result.hpp)
