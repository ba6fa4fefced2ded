// BF16 weights: the top half of an f32, multiplied with activations rounded to bf16.
#pragma once

#include "kernels/formats/common.hpp"

namespace inkling::kernels {
namespace ref {

static inline void quantize_bf16(const float* x, void* out, std::int64_t k) {
  auto* h = static_cast<std::uint16_t*>(out);
  for (std::int64_t i = 0; i < k; ++i) h[i] = f32_to_bf16(x[i]);
}

static inline void dequantize_bf16(const void* src, float* y, std::int64_t n) {
  const auto* h = static_cast<const std::uint16_t*>(src);
  for (std::int64_t i = 0; i < n; ++i) y[i] = bf16_to_f32(h[i]);
}

static inline float vec_dot_bf16(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const std::uint16_t*>(w);
  const auto* y = static_cast<const std::uint16_t*>(a);
  double s = 0;
  for (std::int64_t i = 0; i < k; ++i) s += static_cast<double>(bf16_to_f32(x[i]) * bf16_to_f32(y[i]));
  return static_cast<float>(s);
}

}  // namespace ref

static inline WeightKernels bf16_reference() {
  WeightKernels k;
  k.activation_type = DType::BF16;
  k.quantize = ref::quantize_bf16;
  k.vec_dot = ref::vec_dot_bf16;
  k.dequantize = ref::dequantize_bf16;
  k.encode = ref::quantize_bf16;
  return k;
}

}  // namespace inkling::kernels
