#include "model/layers.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/fp16.hpp"

namespace inkling::detail {

void rms_norm(const float* x, const float* weight, float eps, float* y, std::int64_t n) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (std::int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * weight[i];
}

void layer_norm(const float* x, const float* weight, const float* bias, float eps, float* y, std::int64_t n) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += x[i];
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  double var = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    y[i] = x[i] - mean;
    var += static_cast<double>(y[i] * y[i]);
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(var / static_cast<double>(n)) + eps);
  for (std::int64_t i = 0; i < n; ++i) y[i] = (y[i] * scale) * weight[i] + (bias ? bias[i] : 0.0f);
}

float gelu(float x) noexcept {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  const float h = kernels::fp16_to_f32(kernels::f32_to_fp16(x));
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  const float g = 0.5f * h * (1.0f + std::tanh(kSqrt2OverPi * h * (1.0f + 0.044715f * h * h)));
  return kernels::fp16_to_f32(kernels::f32_to_fp16(g));
}

void gelu_mul(const float* gate, const float* up, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = gelu(gate[i]) * up[i];
}

void gelu_in_place(float* x, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) x[i] = gelu(x[i]);
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

void silu_in_place(float* x, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) x[i] = x[i] / (1.0f + std::exp(-x[i]));
}

void add_in_place(float* x, const float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) x[i] += y[i];
}

namespace {

// Scores of one query against n_keys keys (dot products supplied by `dot`), scaled and
// soft-capped, turned into softmax weights in place (sum in double, as ggml does).
// Scores of one query against n_keys keys, scaled and soft-capped, turned into softmax
// weights in place (sum in double, as ggml does). `fill` writes the raw dot products.
template <typename Fill>
void attention_weights(int n_keys, float scale, float softcap, float* scores, Fill fill) {
  fill(scores);
  float max_score = -INFINITY;
  for (int j = 0; j < n_keys; ++j) {
    float s = scores[j] * scale;
    if (softcap > 0) s = softcap * std::tanh(s / softcap);
    scores[j] = s;
    max_score = std::max(max_score, s);
  }
  double sum = 0.0;
  for (int j = 0; j < n_keys; ++j) {
    // expf is exactly 0 below -104 (under half the smallest subnormal), but reaching
    // that answer through libm's underflow path is slow, and a peaked softmax takes it
    // for most keys.
    const float d = scores[j] - max_score;
    scores[j] = d < -104.0f ? 0.0f : std::exp(d);
    sum += scores[j];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int j = 0; j < n_keys; ++j) scores[j] *= inv;
}

}  // namespace

void attend(kernels::Isa isa, const float* q, const float* k, const float* v,
            std::int64_t stride, int n_keys, int head_dim, float scale, float softcap,
            float* scores, float* out) {
  attention_weights(n_keys, scale, softcap, scores,
                    [&](float* s) { kernels::dot_rows_f32(isa, q, k, stride, n_keys, head_dim, s); });
  kernels::weighted_sum_f32(isa, scores, v, stride, n_keys, head_dim, out);
}

}  // namespace inkling::detail
