// F32 weights: plain floats, multiplied with f32 activations as they are. Also the
// reference f32 vector helpers that attention and norms use.
#pragma once

#include "kernels/formats/common.hpp"

namespace inkling::kernels {
namespace ref {

static inline float dot_f32(const float* a, const float* b, std::int64_t n) {
  double s = 0;
  for (std::int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i] * b[i]);
  return static_cast<float>(s);
}

static inline void axpy_f32(float a, const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

static inline void dot_rows_f32(const float* q, const float* k, std::int64_t stride, int n, std::int64_t len, float* out) {
  for (int j = 0; j < n; ++j) out[j] = dot_f32(q, k + j * stride, len);
}

static inline void weighted_sum_f32(const float* w, const float* v, std::int64_t stride, int n, std::int64_t len,
                                    float* out) {
  for (std::int64_t i = 0; i < len; ++i) out[i] = 0.0f;
  for (int j = 0; j < n; ++j) axpy_f32(w[j], v + j * stride, out, len);
}

static inline void dequantize_f32(const void* src, float* y, std::int64_t n) {
  std::memcpy(y, src, sizeof(float) * static_cast<std::size_t>(n));
}

static inline void encode_f32(const float* x, void* out, std::int64_t n) {
  std::memcpy(out, x, sizeof(float) * static_cast<std::size_t>(n));
}

static inline float vec_dot_f32(std::int64_t k, const void* w, const void* a) {
  return dot_f32(static_cast<const float*>(w), static_cast<const float*>(a), k);
}

}  // namespace ref

static inline WeightKernels f32_reference() {
  WeightKernels k;
  k.activation_type = DType::F32;
  k.vec_dot = ref::vec_dot_f32;
  k.dequantize = ref::dequantize_f32;
  k.encode = ref::encode_f32;
  return k;
}

}  // namespace inkling::kernels
