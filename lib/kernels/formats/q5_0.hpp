// Q5_0: blocks of 32 5-bit quants with one fp16 scale, x = d * (q - 16). The low four
// bits are packed as Q4_0's nibbles; bit j of the 32-bit qh is bit 4 of element j.
// Activations: Q8_0.
#pragma once

#include "kernels/formats/q8_0.hpp"

namespace inkling::kernels {

#pragma pack(push, 1)
struct BlockQ5_0 { std::uint16_t d; std::uint8_t qh[4]; std::uint8_t qs[kQK / 2]; };
#pragma pack(pop)
static_assert(sizeof(BlockQ5_0) == 22);

namespace ref {

// The 5-bit quants of a Q5_0 / Q5_1 block: low nibbles plus bit j of qh as bit 4.
static inline void q5_values(const std::uint8_t* qs, const std::uint8_t* qh_bytes, int* q) {
  const std::uint32_t qh = load_u32(qh_bytes);
  for (int j = 0; j < 16; ++j) {
    q[j] = (qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
    q[j + 16] = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
  }
}

static inline void dequantize_q5_0(const void* src, float* y, std::int64_t n) {
  const auto* b = static_cast<const BlockQ5_0*>(src);
  int q[kQK];
  for (std::int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_f32(b[i].d);
    q5_values(b[i].qs, b[i].qh, q);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(q[j] - 16) * d;
  }
}

static inline float vec_dot_q5_0(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  int q[kQK];
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    q5_values(x[i].qs, x[i].qh, q);
    int sumi = 0;
    for (int j = 0; j < kQK; ++j) sumi += (q[j] - 16) * y[i].qs[j];
    sum += static_cast<float>(sumi) * (fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d));
  }
  return sum;
}

}  // namespace ref

static inline WeightKernels q5_0_reference() {
  WeightKernels k;
  k.activation_type = DType::Q8_0;
  k.quantize = ref::quantize_q8_0;
  k.vec_dot = ref::vec_dot_q5_0;
  k.dequantize = ref::dequantize_q5_0;
  return k;
}

}  // namespace inkling::kernels
