#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace troupe::gpu {

/// Tensor element types, numbered as in the GGUF format (ggml's type ids).
/// Only the ones troupe reads or writes are listed; any other id in a file
/// is refused by the reader with its name unknown.
enum class ggml_type : uint32_t {
  f32 = 0,
  f16 = 1,
  q4_0 = 2,
  q4_1 = 3,
  q8_0 = 8,
  q8_1 = 9,
  q4_k = 12,
  q6_k = 14,
  q8_k = 15,
  bf16 = 30,
};

/// Layout of one type: elements per block and bytes per block.
/// Invariants: block_size > 0 and type_size > 0 for every known type.
struct ggml_type_traits {
  std::string_view name; ///< "F32", "Q4_K", ... as GGUF tools print it.
  int64_t block_size;    ///< Elements per block (1 for float types).
  size_t type_size;      ///< Bytes per block.
};

/// Traits of `t`, or nullptr for an id troupe does not know.
const ggml_type_traits* ggml_traits(uint32_t t);

/// Bytes taken by a row of `n` elements of type `t`. Precondition: `t` is
/// known and `n` is a multiple of its block size.
size_t ggml_row_size(ggml_type t, int64_t n);

/// The type named `name` ("q8_0", "Q8_0", "f32" ...), for the command line.
bool ggml_type_from_name(std::string_view name, ggml_type& out);

} // namespace troupe::gpu
