// Q4_1: blocks of 32 4-bit quants with an fp16 scale and offset, x = d * q + m (nibble
// order as Q4_0). Activations: Q8_1, whose s = d_a * sum(q_a) carries m.
#pragma once

#include "kernels/formats/q8_1.hpp"

namespace inkling::kernels {

#pragma pack(push, 1)
struct BlockQ4_1 { std::uint16_t d, m; std::uint8_t qs[kQK / 2]; };
#pragma pack(pop)
static_assert(sizeof(BlockQ4_1) == 20);

namespace ref {

static inline void dequantize_q4_1(const void* src, float* y, std::int64_t n) {
  const auto* b = static_cast<const BlockQ4_1*>(src);
  for (std::int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_f32(b[i].d), m = fp16_to_f32(b[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(b[i].qs[j] & 0xF) * d + m;
      y[j + 16] = static_cast<float>(b[i].qs[j] >> 4) * d + m;
    }
  }
}

static inline float vec_dot_q4_1(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0;
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    int sumi = 0;
    for (int j = 0; j < 16; ++j) sumi += (x[i].qs[j] & 0xF) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + 16];
    sum += fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d) * static_cast<float>(sumi) + fp16_to_f32(x[i].m) * fp16_to_f32(y[i].s);
  }
  return sum;
}

}  // namespace ref

static inline WeightKernels q4_1_reference() {
  WeightKernels k;
  k.activation_type = DType::Q8_1;
  k.quantize = ref::quantize_q8_1;
  k.vec_dot = ref::vec_dot_q4_1;
  k.dequantize = ref::dequantize_q4_1;
  return k;
}

}  // namespace inkling::kernels
