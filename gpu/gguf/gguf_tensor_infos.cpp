#include "gpu/gguf/gguf_parser.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

// The tensor descriptors, then where their data lies: inside the file, and
// not overlapping.

namespace troupe::gpu::detail {

namespace {

constexpr uint64_t max_tensor_name_bytes = 63; // GGML_MAX_NAME - 1
constexpr uint32_t max_dims = 4;               // GGML_MAX_DIMS
constexpr uint64_t int64_max = std::numeric_limits<int64_t>::max();

std::string known_ggml_types() {
  std::string out;
  for (uint32_t id = 0; id < 64; ++id)
    if (const auto* tr = ggml_traits(id))
      out += (out.empty() ? "" : ", ") + std::string(tr->name);
  return out;
}

} // namespace

std::string gguf_parser::tensor_field(const gguf_tensor& t,
                                      std::string_view part) {
  return gguf_printable(t.name) + ":" + std::string(part);
}

uint64_t gguf_parser::offset_field_at(const gguf_tensor& t) {
  return t.info_offset + 8 + t.name.size() + 4 + 8 * t.n_dims + 4;
}

bool gguf_parser::tensor_infos() {
  key_ = {};
  indices_.clear();
  file_.tensors_.reserve(gguf_reserve_hint(tensor_count_));
  for (uint64_t i = 0; i < tensor_count_; ++i)
    if (!tensor_info(i))
      return false;
  const uint64_t a = file_.alignment_;
  file_.data_offset_ = (pos_ + a - 1) / a * a;
  return true;
}

bool gguf_parser::tensor_info(uint64_t i) {
  gguf_tensor t;
  t.info_offset = pos_;
  auto name_field = [i] { return "tensors[" + std::to_string(i) + "]:name"; };
  if (!read_string(t.name, name_field))
    return false;
  if (t.name.empty())
    return fail(t.info_offset, name_field(), "the tensor name is empty");
  if (t.name.size() > max_tensor_name_bytes)
    return fail(t.info_offset, name_field(),
                "name of " + gguf_bytes_text(t.name.size()) + "; ggml tensor names"
                  " hold at most " + std::to_string(max_tensor_name_bytes));
  const auto [it, fresh] =
    file_.tensor_index_.emplace(t.name, file_.tensors_.size());
  if (!fresh)
    return fail(t.info_offset, name_field(),
                "duplicate tensor name '" + gguf_printable(t.name)
                  + "' (first at tensors[" + std::to_string(it->second)
                  + "], byte "
                  + std::to_string(file_.tensors_[it->second].info_offset)
                  + ")");
  const uint64_t dims_at = pos_;
  if (!read_u32(t.n_dims, [&] { return tensor_field(t, "n_dims"); }))
    return false;
  if (t.n_dims == 0 || t.n_dims > max_dims)
    return fail(dims_at, tensor_field(t, "n_dims"),
                std::to_string(t.n_dims) + " dimensions; expected 1 to "
                  + std::to_string(max_dims));
  if (!tensor_dims(t, dims_at + 4) || !tensor_type(t, dims_at + 4))
    return false;
  const uint64_t offset_at = pos_;
  if (!read_u64(t.offset, [&] { return tensor_field(t, "offset"); }))
    return false;
  if (t.offset % file_.alignment_ != 0)
    return fail(offset_at, tensor_field(t, "offset"),
                "data offset " + std::to_string(t.offset)
                  + " is not a multiple of the alignment "
                  + std::to_string(file_.alignment_));
  file_.tensors_.push_back(t);
  return true;
}

bool gguf_parser::tensor_dims(gguf_tensor& t, uint64_t ne_at) {
  uint64_t elements = 1;
  for (uint32_t d = 0; d < t.n_dims; ++d) {
    const std::string part = "ne[" + std::to_string(d) + "]";
    uint64_t ne = 0;
    if (!read_u64(ne, [&] { return tensor_field(t, part); }))
      return false;
    const uint64_t at = ne_at + 8 * d;
    if (ne == 0 || ne > int64_max)
      return fail(at, tensor_field(t, part),
                  "dimension " + std::to_string(d) + " is "
                    + std::to_string(ne) + "; expected 1 to 2^63-1");
    if (elements > int64_max / ne)
      return fail(at, tensor_field(t, part),
                  "the element count overflows int64 at dimension "
                    + std::to_string(d));
    elements *= ne;
    t.ne[d] = static_cast<int64_t>(ne);
  }
  t.n_elements = static_cast<int64_t>(elements);
  return true;
}

bool gguf_parser::tensor_type(gguf_tensor& t, uint64_t ne0_at) {
  const uint64_t type_at = pos_;
  uint32_t type = 0;
  if (!read_u32(type, [&] { return tensor_field(t, "type"); }))
    return false;
  const auto* traits = ggml_traits(type);
  if (traits == nullptr)
    return fail(type_at, tensor_field(t, "type"),
                "unknown ggml type " + std::to_string(type)
                  + "; troupe reads " + known_ggml_types());
  t.type = static_cast<ggml_type>(type);
  const auto block = static_cast<uint64_t>(traits->block_size);
  const auto ne0 = static_cast<uint64_t>(t.ne[0]);
  if (ne0 % block != 0)
    return fail(ne0_at, tensor_field(t, "ne[0]"),
                "row of " + std::to_string(ne0) + " elements is not a whole"
                  " number of " + std::string(traits->name) + " blocks of "
                  + std::to_string(block));
  const uint64_t rows = static_cast<uint64_t>(t.n_elements) / ne0;
  uint64_t row_bytes = 0;
  if (__builtin_mul_overflow(ne0 / block, uint64_t{traits->type_size},
                             &row_bytes)
      || __builtin_mul_overflow(row_bytes, rows, &t.size_bytes))
    return fail(ne0_at, tensor_field(t, "ne[0]"),
                "the size in bytes overflows 64 bits");
  return true;
}

bool gguf_parser::tensor_extents() {
  const uint64_t data = file_.data_offset_;
  for (auto& t : file_.tensors_) {
    if (data > size_ || t.offset > size_ - data)
      return fail(offset_field_at(t), tensor_field(t, "offset"),
                  "data offset " + std::to_string(t.offset) + " puts the data"
                    " at byte " + std::to_string(data) + " + "
                    + std::to_string(t.offset) + ", past the end of the file"
                    " at byte " + std::to_string(size_) + " (truncated?)");
    t.file_offset = data + t.offset;
    if (t.size_bytes > size_ - t.file_offset)
      return fail(t.file_offset, tensor_field(t, "data"),
                  "needs " + gguf_bytes_text(t.size_bytes) + " from byte "
                    + std::to_string(t.file_offset) + " but the file ends at"
                    " byte " + std::to_string(size_) + " (truncated?)");
  }
  return true;
}

bool gguf_parser::tensor_overlaps() {
  const auto& ts = file_.tensors_;
  std::vector<size_t> order(ts.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return ts[a].file_offset != ts[b].file_offset
             ? ts[a].file_offset < ts[b].file_offset
             : a < b;
  });
  uint64_t end = 0;
  size_t owner = 0;
  for (size_t i : order) {
    const auto& t = ts[i];
    if (t.file_offset < end)
      return fail(offset_field_at(t), tensor_field(t, "offset"),
                  "data [" + std::to_string(t.file_offset) + ", "
                    + std::to_string(t.file_offset + t.size_bytes)
                    + ") overlaps tensor '" + gguf_printable(ts[owner].name)
                    + "' at [" + std::to_string(ts[owner].file_offset) + ", "
                    + std::to_string(end) + ")");
    if (t.file_offset + t.size_bytes > end) {
      end = t.file_offset + t.size_bytes;
      owner = i;
    }
  }
  return true;
}

} // namespace troupe::gpu::detail
