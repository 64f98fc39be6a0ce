#include "gpu/ggml_type.hpp"

#include <cctype>
#include <string>

namespace troupe::gpu {

namespace {

struct row {
  uint32_t id;
  ggml_type_traits traits;
};

// Block layouts follow the GGUF format: QK = 32 for the legacy quants,
// QK_K = 256 for the k-quants.
const row table[] = {
  {0, {"F32", 1, 4}},
  {1, {"F16", 1, 2}},
  {2, {"Q4_0", 32, 2 + 16}},
  {3, {"Q4_1", 32, 2 + 2 + 16}},
  {8, {"Q8_0", 32, 2 + 32}},
  {9, {"Q8_1", 32, 4 + 32}},
  {12, {"Q4_K", 256, 2 + 2 + 12 + 128}},
  {14, {"Q6_K", 256, 128 + 64 + 16 + 2}},
  {15, {"Q8_K", 256, 4 + 256 + 2 * 16}},
  {30, {"BF16", 1, 2}},
};

} // namespace

const ggml_type_traits* ggml_traits(uint32_t t) {
  for (const auto& r : table)
    if (r.id == t)
      return &r.traits;
  return nullptr;
}

size_t ggml_row_size(ggml_type t, int64_t n) {
  const auto* tr = ggml_traits(static_cast<uint32_t>(t));
  return static_cast<size_t>(n / tr->block_size) * tr->type_size;
}

bool ggml_type_from_name(std::string_view name, ggml_type& out) {
  std::string upper;
  for (char c : name)
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& r : table)
    if (r.traits.name == upper) {
      out = static_cast<ggml_type>(r.id);
      return true;
    }
  return false;
}

} // namespace troupe::gpu
