// F16 weights: IEEE halves, multiplied with activations rounded to f16 (as llama.cpp).
// Also the F16 KV cache's reference helper axpy_f16.
#pragma once

#include "kernels/formats/common.hpp"

namespace inkling::kernels {
namespace ref {

static inline void quantize_f16(const float* x, void* out, std::int64_t k) {
  auto* h = static_cast<std::uint16_t*>(out);
  for (std::int64_t i = 0; i < k; ++i) h[i] = f32_to_fp16(x[i]);
}

static inline void dequantize_f16(const void* src, float* y, std::int64_t n) {
  const auto* h = static_cast<const std::uint16_t*>(src);
  for (std::int64_t i = 0; i < n; ++i) y[i] = fp16_to_f32(h[i]);
}

static inline float vec_dot_f16(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const std::uint16_t*>(w);
  const auto* y = static_cast<const std::uint16_t*>(a);
  double s = 0;
  for (std::int64_t i = 0; i < k; ++i) s += static_cast<double>(fp16_to_f32(x[i]) * fp16_to_f32(y[i]));
  return static_cast<float>(s);
}

static inline void axpy_f16(float a, const std::uint16_t* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] += a * fp16_to_f32(x[i]);
}

}  // namespace ref

static inline WeightKernels f16_reference() {
  WeightKernels k;
  k.activation_type = DType::F16;
  k.quantize = ref::quantize_f16;
  k.vec_dot = ref::vec_dot_f16;
  k.dequantize = ref::dequantize_f16;
  k.encode = ref::quantize_f16;
  return k;
}

}  // namespace inkling::kernels
