// Bidirectional attention of an encoder, one (sequence, head) at a time.
#pragma once

#include <cstdint>

#include "kernels/kernels.hpp"

namespace inkling::detail {

// Every one of `len` queries of one head attends to the `len` keys of its sequence:
// out_i = softmax(scale · K·q_i) · V. Query i is q + i * q_stride, key / value j are
// k / v + j * kv_stride (head_dim floats each), output i is out + i * out_stride.
// The same result as attend() per query up to float summation order, computed for
// short heads (encoders' 32-64): the keys are transposed once into `kt` (head_dim x len
// floats), so a query's scores are head_dim vector axpys over all keys instead of one
// horizontal dot product per key. `scores` holds len floats.
// e^x for x <= 0 within ~3e-7 relative (0 below -87, where e^x is under 2e-38): the
// softmax's exponential, computed in a loop the compiler vectorises where expf is one
// library call per key.
float exp_nonpositive(float x) noexcept;

void encoder_attend_head(kernels::Isa isa, const float* q, std::int64_t q_stride, const float* k, const float* v,
                         std::int64_t kv_stride, int len, int head_dim, float scale, float* kt, float* scores,
                         float* out, std::int64_t out_stride);

}  // namespace inkling::detail
