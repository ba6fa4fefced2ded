// Encoder attention per (sequence, head): see encoder_attention.hpp.
#include "model/encoder_attention.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/attention_tile.hpp"

namespace inkling::detail {

std::size_t encoder_attention_scratch(int len, int head_dim) noexcept {
  // Transposed queries and outputs (head_dim x block each), scores (len x block), and
  // the softmax's running max, sum and rescale (block each).
  return static_cast<std::size_t>(kEncoderQueryBlock) * (2 * static_cast<std::size_t>(head_dim) + len + 3);
}

void encoder_attend_head(kernels::Isa isa, const float* q, std::int64_t q_stride, const float* k, const float* v,
                         std::int64_t kv_stride, int len, int head_dim, float scale, float* scratch, float* out,
                         std::int64_t out_stride) {
  constexpr int rs = kEncoderQueryBlock;
  static_assert(rs % kernels::kAttnRowAlign == 0);
  float* qt = scratch;
  float* o = qt + static_cast<std::ptrdiff_t>(head_dim) * rs;
  float* st = o + static_cast<std::ptrdiff_t>(head_dim) * rs;
  float* m = st + static_cast<std::ptrdiff_t>(len) * rs;
  float* l = m + rs;
  float* alpha = l + rs;
  for (int i0 = 0; i0 < len; i0 += rs) {
    const int rows = std::min(rs, len - i0);
    // The tile reads every lane of the block: lanes past the last query are zero.
    for (int d = 0; d < head_dim; ++d) {
      float* row = qt + static_cast<std::ptrdiff_t>(d) * rs;
      for (int r = 0; r < rows; ++r) row[r] = q[(i0 + r) * q_stride + d];
      std::fill(row + rows, row + rs, 0.0f);
    }
    // All keys fit one tile, so the online softmax runs a single step from an empty
    // state: alpha comes out 0 and o must only be finite.
    std::fill(m, m + rs, -INFINITY);
    std::fill(l, l + rs, 0.0f);
    std::fill(o, o + static_cast<std::ptrdiff_t>(rows) * head_dim, 0.0f);
    kernels::attn_scores(isa, k, kv_stride, len, head_dim, qt, rs, scale, st);
    kernels::attn_softmax(isa, st, len, rs, m, l, alpha);
    kernels::attn_accumulate(isa, st, len, rs, rows, v, kv_stride, head_dim, alpha, o);
    for (int r = 0; r < rows; ++r) {
      const float inv = 1.0f / l[r];
      const float* src = o + static_cast<std::ptrdiff_t>(r) * head_dim;
      float* dst = out + (i0 + r) * out_stride;
      for (int d = 0; d < head_dim; ++d) dst[d] = src[d] * inv;
    }
  }
}

}  // namespace inkling::detail
