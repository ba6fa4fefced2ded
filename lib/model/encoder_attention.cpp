// Encoder attention per (sequence, head): see encoder_attention.hpp.
#include "model/encoder_attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace inkling::detail {

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
    double sum = 0.0;  // in double, as ggml's softmax and attend()
    for (int j = 0; j < len; ++j) {
      const float e = scores[j] - mx;
      // expf is exactly 0 below -104; libm's underflow path to that answer is slow.
      scores[j] = e < -104.0f ? 0.0f : std::exp(e);
      sum += scores[j];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int j = 0; j < len; ++j) scores[j] *= inv;
    kernels::weighted_sum_f32(isa, scores, v, kv_stride, len, head_dim, out + i * out_stride);
  }
}

}  // namespace inkling::detail
