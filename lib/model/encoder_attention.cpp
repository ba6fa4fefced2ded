// Encoder attention per (sequence, head): see encoder_attention.hpp.
#include "model/encoder_attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace inkling::detail {
namespace {

// Branch-free, so that the softmax loop calling it vectorises (the file is compiled
// with -fno-trapping-math, without which GCC keeps the selects as branches).
// x = n ln2 + r with |r| <= ln2 / 2, n rounded to nearest by adding and removing
// 1.5 * 2^23; ln2 in two parts keeps r exact; e^r by the classic degree-5 minimax
// polynomial for e^r - 1 - r; 2^n built in the exponent bits.
inline float exp_nonpositive_inline(float x) noexcept {
  const float big = 12582912.0f;
  const float xc = x > -87.0f ? x : -87.0f;
  const float n = (xc * 1.44269504089f + big) - big;
  const float r = (xc - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r * r + r + 1.0f;
  const std::int32_t bits = (static_cast<std::int32_t>(n) + 127) * (1 << 23);
  float two_n;
  std::memcpy(&two_n, &bits, sizeof two_n);
  const float v = er * two_n;
  return x >= -87.0f ? v : 0.0f;
}

}  // namespace

float exp_nonpositive(float x) noexcept { return exp_nonpositive_inline(x); }

void encoder_attend_head(kernels::Isa isa, const float* q, std::int64_t q_stride, const float* k, const float* v,
                         std::int64_t kv_stride, int len, int head_dim, float scale, float* kt, float* scores,
                         float* out, std::int64_t out_stride) {
  for (int j = 0; j < len; ++j)
    for (int d = 0; d < head_dim; ++d) kt[static_cast<std::int64_t>(d) * len + j] = k[j * kv_stride + d];
  for (int i = 0; i < len; ++i) {
    const float* qi = q + i * q_stride;
    std::memset(scores, 0, sizeof(float) * static_cast<std::size_t>(len));
    for (int d = 0; d < head_dim; ++d)
      kernels::axpy_f32(isa, qi[d] * scale, kt + static_cast<std::int64_t>(d) * len, scores, len);
    const float mx = *std::max_element(scores, scores + len);
    for (int j = 0; j < len; ++j) scores[j] = exp_nonpositive_inline(scores[j] - mx);
    double sum = 0.0;  // in double, as ggml's softmax and attend()
    for (int j = 0; j < len; ++j) sum += scores[j];
    const float inv = static_cast<float>(1.0 / sum);
    for (int j = 0; j < len; ++j) scores[j] *= inv;
    kernels::weighted_sum_f32(isa, scores, v, kv_stride, len, head_dim, out + i * out_stride);
  }
}

}  // namespace inkling::detail
