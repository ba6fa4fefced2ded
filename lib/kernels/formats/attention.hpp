// The plain-loop reference of the attention tile kernels (kernels/attention_tile.hpp):
// the scalar table's entries and what the vectorised ones are tested against.
#pragma once

#include <algorithm>
#include <cmath>

#include "kernels/formats/common.hpp"
#include "kernels/formats/q8_0.hpp"

namespace inkling::kernels {
namespace ref {

static inline void attn_scores(const float* k, std::int64_t k_stride, int n_keys, int head_dim, const float* qt,
                               int rs, float scale, float* st) {
  for (int j = 0; j < n_keys; ++j)
    for (int r = 0; r < rs; ++r) {
      float s = 0.0f;
      for (int i = 0; i < head_dim; ++i) s += k[j * k_stride + i] * qt[i * rs + r];
      st[j * rs + r] = scale * s;
    }
}

static inline void attn_softmax(float* st, int n_keys, int rs, float* m, float* l, float* alpha) {
  for (int r = 0; r < rs; ++r) {
    float mx = m[r];
    for (int j = 0; j < n_keys; ++j) mx = std::max(mx, st[j * rs + r]);
    // While every score is -inf the row has no weight: subtract 0, not -inf (NaN).
    const float base = mx == -INFINITY ? 0.0f : mx;
    float sum = 0.0f;
    for (int j = 0; j < n_keys; ++j) {
      const float p = std::exp(st[j * rs + r] - base);
      st[j * rs + r] = p;
      sum += p;
    }
    alpha[r] = std::exp(m[r] - base);
    l[r] = alpha[r] * l[r] + sum;
    m[r] = mx;
  }
}

static inline void attn_accumulate(const float* p, int n_keys, int rs, int rows, const float* v,
                                   std::int64_t v_stride, int head_dim, const float* alpha, float* o) {
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < head_dim; ++i) {
      float acc = alpha[r] * o[r * head_dim + i];
      for (int j = 0; j < n_keys; ++j) acc += p[j * rs + r] * v[j * v_stride + i];
      o[r * head_dim + i] = acc;
    }
}

// `rows` cache rows of n values, `stride` bytes apart, into contiguous f32 rows.
static inline void f16_rows_to_f32(const std::byte* x, std::size_t stride, int rows, std::int64_t n, float* y) {
  for (int r = 0; r < rows; ++r, x += stride, y += n) {
    const auto* h = reinterpret_cast<const std::uint16_t*>(x);
    for (std::int64_t i = 0; i < n; ++i) y[i] = fp16_to_f32(h[i]);
  }
}

static inline void q8_0_rows_to_f32(const std::byte* x, std::size_t stride, int rows, std::int64_t n, float* y) {
  for (int r = 0; r < rows; ++r, x += stride, y += n) dequantize_q8_0(x, y, n);
}

}  // namespace ref
}  // namespace inkling::kernels
