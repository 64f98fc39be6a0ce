#pragma once

#include "gpu/cpu/kernels.hpp"

// Turns a tile of runtime size nr x nt into a call of a kernel compiled for
// that exact size, so the kernels' row and token loops unroll fully and
// their accumulators live in registers.
//
// Kernel is a struct with `template <int R, int T> static void run(const
// tile_args&)` for nr == R, nt == T. Each SIMD translation unit passes
// kernels from its own anonymous namespace, so these instantiations never
// merge across units compiled with different instruction sets.

// Fully unrolls a loop over a tile's rows or tokens so that its
// accumulators can stay in registers (GCC's -O2 would keep them in memory).
#define TROUPE_UNROLL _Pragma("GCC unroll 16")

namespace troupe::gpu::cpu {

template <class Kernel, int R, int T>
void tile_by_tokens(const tile_args& a) {
  if constexpr (T > 1) {
    if (a.nt != T)
      return tile_by_tokens<Kernel, R, T - 1>(a);
  }
  Kernel::template run<R, T>(a);
}

/// Runs Kernel::run<R, T> over all a.nt tokens, T at a time, the last
/// group with fewer: for kernels that unpack nothing worth keeping.
template <class Kernel, int T>
struct token_groups {
  template <int R>
  static void rows(const tile_args& a) {
    tile_args g = a;
    for (int t0 = 0; t0 < a.nt; t0 += T) {
      g.nt = a.nt - t0 < T ? a.nt - t0 : T;
      g.x = static_cast<const char*>(a.x) + t0 * a.x_stride;
      g.y = a.y + t0 * a.y_stride;
      tile_by_tokens<Kernel, R, T>(g);
    }
  }
};

/// Calls Rows::rows<nr>(a) for nr in 1..R.
template <class Rows, int R>
void tile_by_rows(const tile_args& a) {
  if constexpr (R > 1) {
    if (a.nr != R)
      return tile_by_rows<Rows, R - 1>(a);
  }
  Rows::template rows<R>(a);
}

/// A type_kernel whose tile handles up to R rows, T tokens at a time.
template <class Kernel, int R, int T>
constexpr type_kernel make_type_kernel(act_kind act) {
  return {tile_by_rows<token_groups<Kernel, T>, R>, act, R, T, nullptr};
}

} // namespace troupe::gpu::cpu
