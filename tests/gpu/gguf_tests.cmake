# GGUF reader and writer: round trips, corruption at exact offsets, the real
# models (skipped when absent) and the fuzzer's seed corpus.
target_sources(gpu_tests PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/gguf_builder.hpp
  ${CMAKE_CURRENT_SOURCE_DIR}/gguf_corruption_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/gguf_file_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/gguf_samples.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/gguf_samples.hpp
  ${CMAKE_CURRENT_SOURCE_DIR}/gguf_seed_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/gguf_writer_test.cpp)
