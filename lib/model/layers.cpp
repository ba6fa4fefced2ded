#include "model/layers.hpp"

#include <cmath>
#include <cstring>

namespace inkling::detail {

void rms_norm(const float* x, const float* weight, float eps, float* y, std::int64_t n) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (std::int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * weight[i];
}

void rope_angles(int position, int n_rot, float freq_base, float freq_scale, float* cos_out,
                 float* sin_out) {
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_rot));
  float theta = static_cast<float>(position);
  for (int i = 0; i < n_rot / 2; ++i) {
    const float angle = freq_scale * theta;
    cos_out[i] = std::cos(angle);
    sin_out[i] = std::sin(angle);
    theta *= theta_scale;
  }
}

void rope_apply(float* x, int n_heads, int head_dim, int n_rot, RopeStyle style,
                const float* cos_v, const float* sin_v) {
  const int half = n_rot / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* head = x + static_cast<std::int64_t>(h) * head_dim;
    for (int i = 0; i < half; ++i) {
      const int a = style == RopeStyle::Normal ? 2 * i : i;
      const int b = style == RopeStyle::Normal ? 2 * i + 1 : i + half;
      const float x0 = head[a], x1 = head[b];
      head[a] = x0 * cos_v[i] - x1 * sin_v[i];
      head[b] = x0 * sin_v[i] + x1 * cos_v[i];
    }
  }
}

void silu_mul(const float* gate, const float* up, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void add_in_place(float* x, const float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void attend(kernels::Isa isa, const float* q, const float* k, const float* v,
            std::int64_t stride, int n_keys, int head_dim, float scale, float* scores,
            float* out) {
  float max_score = -INFINITY;
  for (int j = 0; j < n_keys; ++j) {
    scores[j] = kernels::dot_f32(isa, q, k + j * stride, head_dim) * scale;
    max_score = std::max(max_score, scores[j]);
  }
  double sum = 0.0;
  for (int j = 0; j < n_keys; ++j) {
    scores[j] = std::exp(scores[j] - max_score);
    sum += scores[j];
  }
  const float inv = static_cast<float>(1.0 / sum);
  std::memset(out, 0, sizeof(float) * static_cast<std::size_t>(head_dim));
  for (int j = 0; j < n_keys; ++j)
    kernels::axpy_f32(isa, scores[j] * inv, v + j * stride, out, head_dim);
}

}  // namespace inkling::detail
