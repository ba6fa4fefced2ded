// Bidirectional attention of an encoder, one (sequence, head) at a time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.hpp"

namespace inkling::detail {

// Queries handled together: one tile of the blocked-attention kernels (kernels/attention_tile.hpp).
inline constexpr int kEncoderQueryBlock = 32;

// Floats of scratch encoder_attend_head needs for a sequence of `len` tokens.
std::size_t encoder_attention_scratch(int len, int head_dim) noexcept;

// Every one of `len` queries of one head attends to the `len` keys of its sequence:
// out_i = softmax(scale · K·q_i) · V. Query i is q + i * q_stride, key / value j are
// k / v + j * kv_stride (head_dim floats each), output i is out + i * out_stride.
// The same result as attend() per query up to float rounding (sums run in another
// order, the softmax's in float), computed kEncoderQueryBlock queries at a time with the
// blocked-attention tiles: each load of a key or value serves the whole block, and the
// scores, exponentials and weighted sums are vector loops over the block's queries.
// `scratch` holds encoder_attention_scratch(len, head_dim) floats.
void encoder_attend_head(kernels::Isa isa, const float* q, std::int64_t q_stride, const float* k, const float* v,
                         std::int64_t kv_stride, int len, int head_dim, float scale, float* scratch, float* out,
                         std::int64_t out_stride);

}  // namespace inkling::detail
