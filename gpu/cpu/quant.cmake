# The CPU compute kernels: block formats, dot products per SIMD level,
# thread pool and matmul. Included by gpu/CMakeLists.txt.
#
# Each SIMD level lives in its own translation units compiled with that
# level's -m flags; matmul.cpp picks one at run time. A compiler that lacks
# the flags builds those units as stubs, and the scalar level remains.

target_sources(troupe_gpu PRIVATE
  cpu/kernels.hpp
  cpu/kernels_avx2.cpp
  cpu/kernels_avx2_k.cpp
  cpu/kernels_avx512.cpp
  cpu/kernels_avx512_k.cpp
  cpu/kernels_avx512_q.cpp
  cpu/kernels_scalar.cpp
  cpu/matmul.cpp
  cpu/matmul.hpp
  cpu/quant_block.hpp
  cpu/quantize.cpp
  cpu/quantize_k.cpp
  cpu/quantize_k.hpp
  cpu/thread_pool.cpp
  cpu/thread_pool.hpp
  cpu/tile_dispatch.hpp)

find_package(Threads REQUIRED)
target_link_libraries(troupe_gpu PUBLIC Threads::Threads)

include(CheckCXXSourceCompiles)

# Sets <var> when the compiler accepts `flags` and the intrinsic `probe`.
function(troupe_check_simd var flags probe)
  set(CMAKE_REQUIRED_FLAGS "${flags}")
  check_cxx_source_compiles("
    #include <immintrin.h>
    int main() { ${probe}; return 0; }" ${var})
endfunction()

troupe_check_simd(TROUPE_CXX_AVX2 "-mavx2 -mfma -mf16c"
  "__m256 v = _mm256_fmadd_ps(_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_cvtph_ps(_mm_setzero_si128())); (void)v")
troupe_check_simd(TROUPE_CXX_AVX512
  "-mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512vnni"
  "__m512i v = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()); (void)v")

if(TROUPE_CXX_AVX2)
  set_source_files_properties(cpu/kernels_avx2.cpp cpu/kernels_avx2_k.cpp
    PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
endif()
if(TROUPE_CXX_AVX512)
  # GCC 12's AVX-512 headers start many intrinsics from an undefined vector
  # and trip its own -Wuninitialized (GCC bug 105593); the flags after
  # -Wall silence that for these units only.
  set_source_files_properties(
    cpu/kernels_avx512.cpp cpu/kernels_avx512_k.cpp cpu/kernels_avx512_q.cpp
    PROPERTIES COMPILE_OPTIONS
      "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512vnni;$<$<CXX_COMPILER_ID:GNU>:-Wno-uninitialized;-Wno-maybe-uninitialized>")
endif()
