// Encoding f32 rows into the simple weight types (the file converter's half of the work;
// the forward pass only ever decodes them).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/blocks.hpp"
#include "kernels/fp16.hpp"
#include "kernels/kernel_table.hpp"
#include "kernels/quantize_row.hpp"

namespace inkling::kernels {
namespace {

// Q4_0 as llama.cpp's reference encoder: the scale maps the value of largest magnitude
// (with its sign) to -8, so that extreme is exact and the other side has 7 steps.
void quantize_q4_0(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ4_0*>(out);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    float amax = 0, max = 0;
    for (int j = 0; j < kQK; ++j)
      if (std::abs(x[j]) > amax) amax = std::abs(x[j]), max = x[j];
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = f32_to_fp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = std::min(15, static_cast<int>(static_cast<std::int8_t>(x[j] * id + 8.5f)));
      const int hi = std::min(15, static_cast<int>(static_cast<std::int8_t>(x[j + kQK / 2] * id + 8.5f)));
      b[i].qs[j] = static_cast<std::uint8_t>(lo | (hi << 4));
    }
  }
}

}  // namespace

bool can_encode(DType type) noexcept {
  return type == DType::F32 || type == DType::F16 || type == DType::BF16 || type == DType::Q8_0 || type == DType::Q4_0;
}

void quantize_row(DType type, const float* src, std::byte* dst, std::int64_t n) {
  switch (type) {
    case DType::F32: std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float)); return;
    case DType::F16: ref::quantize_f16(src, dst, n); return;
    case DType::BF16: ref::quantize_bf16(src, dst, n); return;
    case DType::Q8_0: ref::quantize_q8_0(src, dst, n); return;
    case DType::Q4_0: quantize_q4_0(src, dst, n); return;
    default: std::abort();  // callers check can_encode first
  }
}

}  // namespace inkling::kernels
