// Q8_0: blocks of 32 int8 quants with one fp16 scale, x = d * q. Both a weight type and
// the activation partner of Q4_0, Q5_0 and Q8_0 weights.
#pragma once

#include <algorithm>
#include <cmath>

#include "kernels/formats/common.hpp"

namespace inkling::kernels {

#pragma pack(push, 1)
struct BlockQ8_0 { std::uint16_t d; std::int8_t qs[kQK]; };
#pragma pack(pop)
static_assert(sizeof(BlockQ8_0) == 34);

namespace ref {

// As llama.cpp's x86 path: multiplier 127/amax, round half to even.
static inline void quantize_q8_0(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ8_0*>(out);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::abs(x[j]));
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    b[i].d = f32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) b[i].qs[j] = static_cast<std::int8_t>(std::nearbyint(x[j] * id));
  }
}

static inline void dequantize_q8_0(const void* src, float* y, std::int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (std::int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(b[i].qs[j]) * d;
  }
}

static inline float vec_dot_q8_0(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    int sumi = 0;
    for (int j = 0; j < kQK; ++j) sumi += x[i].qs[j] * y[i].qs[j];
    sum += static_cast<float>(sumi) * (fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d));
  }
  return sum;
}

}  // namespace ref

static inline WeightKernels q8_0_reference() {
  WeightKernels k;
  k.activation_type = DType::Q8_0;
  k.quantize = ref::quantize_q8_0;
  k.vec_dot = ref::vec_dot_q8_0;
  k.dequantize = ref::dequantize_q8_0;
  k.encode = ref::quantize_q8_0;
  return k;
}

}  // namespace inkling::kernels
