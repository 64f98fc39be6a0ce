# Tests of the CPU kernels (gpu/cpu/quant.cmake): block formats, every SIMD
# level against the scalar reference, matmul against a double-precision
# reference, and the thread pool. Included by tests/gpu/CMakeLists.txt.
target_sources(gpu_tests PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/matmul_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/quant_reference.hpp
  ${CMAKE_CURRENT_SOURCE_DIR}/quant_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/thread_pool_test.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/vec_dot_test.cpp)
