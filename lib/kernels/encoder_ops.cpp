// Encoder row steps: the scalar reference and the dispatch (encoder_ops.hpp).
#include "kernels/encoder_ops.hpp"

#include <cmath>

#include "kernels/fp16.hpp"
#include "kernels/kernel_table.hpp"

namespace inkling::kernels {
namespace ref {

void add_norm(float* x, const float* o, const float* bias, const float* weight, const float* norm_bias, float eps,
              std::int64_t n) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float a = (o ? o[i] : 0.0f) + (bias ? bias[i] : 0.0f);
    x[i] = a + x[i];
    sum += x[i];
  }
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  double var = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    x[i] -= mean;
    var += static_cast<double>(x[i] * x[i]);
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(var / static_cast<double>(n)) + eps);
  for (std::int64_t i = 0; i < n; ++i) x[i] = (x[i] * scale) * weight[i] + (norm_bias ? norm_bias[i] : 0.0f);
}

void bias_gelu(float* x, const float* bias, const float* table, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    const float v = bias ? x[i] + bias[i] : x[i];
    x[i] = v <= -10.0f ? 0.0f : v < 10.0f ? table[f32_to_fp16(v)] : v;
  }
}

}  // namespace ref

void add_norm(Isa isa, float* x, const float* o, const float* bias, const float* weight, const float* norm_bias,
              float eps, std::int64_t n) {
  table_for(isa).add_norm(x, o, bias, weight, norm_bias, eps, n);
}

void bias_gelu(Isa isa, float* x, const float* bias, const float* table, std::int64_t n) {
  table_for(isa).bias_gelu(x, bias, table, n);
}

}  // namespace inkling::kernels
