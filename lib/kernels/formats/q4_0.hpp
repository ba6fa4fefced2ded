// Q4_0: blocks of 32 4-bit quants with one fp16 scale, x = d * (q - 8). Byte j holds
// element j in its low nibble and element j + 16 in its high nibble. Activations: Q8_0.
#pragma once

#include <algorithm>
#include <cmath>

#include "kernels/formats/q8_0.hpp"

namespace inkling::kernels {

#pragma pack(push, 1)
struct BlockQ4_0 { std::uint16_t d; std::uint8_t qs[kQK / 2]; };
#pragma pack(pop)
static_assert(sizeof(BlockQ4_0) == 18);

namespace ref {

static inline void dequantize_q4_0(const void* src, float* y, std::int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (std::int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>((b[i].qs[j] & 0xF) - 8) * d;
      y[j + 16] = static_cast<float>((b[i].qs[j] >> 4) - 8) * d;
    }
  }
}

static inline float vec_dot_q4_0(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    int sumi = 0;
    for (int j = 0; j < 16; ++j)
      sumi += ((x[i].qs[j] & 0xF) - 8) * y[i].qs[j] + ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + 16];
    sum += static_cast<float>(sumi) * (fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d));
  }
  return sum;
}

// As llama.cpp's reference encoder: the scale maps the value of largest magnitude (with
// its sign) to -8, so that extreme is exact and the other side has 7 steps.
static inline void encode_q4_0(const float* x, void* out, std::int64_t k) {
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

}  // namespace ref

static inline WeightKernels q4_0_reference() {
  WeightKernels k;
  k.activation_type = DType::Q8_0;
  k.quantize = ref::quantize_q8_0;
  k.vec_dot = ref::vec_dot_q4_0;
  k.dequantize = ref::dequantize_q4_0;
  k.encode = ref::encode_q4_0;
  return k;
}

}  // namespace inkling::kernels
