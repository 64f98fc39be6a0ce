#pragma once

#include <cstdint>

#include "gpu/cuda/matmul.cuh"
#include "gpu/status.hpp"

// Row gather with dequantization on the device: the embedding lookup of a
// batch's tokens (the CPU twin is cpu::dequantize_row of w.row(token)), and
// the compaction of the rows whose logits are wanted. No CUDA types here.

namespace troupe::gpu::cuda {

/// out[i] = row ids[i] of `table` as f32, for i < n. ids: [n] int32 and
/// out: [n, table.cols] f32 are device memory; table is a device_matrix of
/// a type matmul_supports. An id outside [0, table.rows) yields a row of
/// NaN instead of a read out of bounds. Enqueues on the default stream;
/// invalid_argument for a bad type or shape, cuda_error when the launch
/// fails. Never throws.
status gather_rows_device(const device_matrix& table, const int32_t* ids, int64_t n,
                          float* out) noexcept;

} // namespace troupe::gpu::cuda
