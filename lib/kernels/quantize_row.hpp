// Encoding f32 rows into a weight type (the inverse of dequantize_row, for the types the
// file converter writes).
#pragma once

#include <cstddef>
#include <cstdint>

#include "inkling/tensor.hpp"

namespace inkling::kernels {

bool can_encode(DType type) noexcept;
// n must be a multiple of the type's block size; the type must pass can_encode.
void quantize_row(DType type, const float* src, std::byte* dst, std::int64_t n);

}  // namespace inkling::kernels
