// Q5_1: Q5_0's 5-bit quants (same packing, q5_values) with an offset, x = d * q + m.
// Activations: Q8_1.
#pragma once

#include "kernels/formats/q5_0.hpp"
#include "kernels/formats/q8_1.hpp"

namespace inkling::kernels {

#pragma pack(push, 1)
struct BlockQ5_1 { std::uint16_t d, m; std::uint8_t qh[4]; std::uint8_t qs[kQK / 2]; };
#pragma pack(pop)
static_assert(sizeof(BlockQ5_1) == 24);

namespace ref {

static inline void dequantize_q5_1(const void* src, float* y, std::int64_t n) {
  const auto* b = static_cast<const BlockQ5_1*>(src);
  int q[kQK];
  for (std::int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_f32(b[i].d), m = fp16_to_f32(b[i].m);
    q5_values(b[i].qs, b[i].qh, q);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(q[j]) * d + m;
  }
}

static inline float vec_dot_q5_1(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0;
  int q[kQK];
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    q5_values(x[i].qs, x[i].qh, q);
    int sumi = 0;
    for (int j = 0; j < kQK; ++j) sumi += q[j] * y[i].qs[j];
    sum += fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d) * static_cast<float>(sumi) + fp16_to_f32(x[i].m) * fp16_to_f32(y[i].s);
  }
  return sum;
}

}  // namespace ref

static inline WeightKernels q5_1_reference() {
  WeightKernels k;
  k.activation_type = DType::Q8_1;
  k.quantize = ref::quantize_q8_1;
  k.vec_dot = ref::vec_dot_q5_1;
  k.dequantize = ref::dequantize_q5_1;
  return k;
}

}  // namespace inkling::kernels
