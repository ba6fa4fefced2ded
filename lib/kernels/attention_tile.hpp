// Tile kernels of blocked ("flash") attention: a tile of keys is scored against a block
// of query rows at once, and the rows' softmax runs online (a running max and sum per
// row), so no row of n_ctx scores is ever built and every key tile, once converted to
// f32, is shared by all the rows of the block (a GQA group's heads, several tokens).
//
// Layouts (all f32):
//   k, v  : n_keys rows of head_dim values (row j = key j), k_stride / v_stride floats
//           apart (an F32 cache is read in place, converted tiles are contiguous);
//   qt    : the block's queries transposed, qt[i * rs + r] = element i of row r, where the
//           row stride rs is a multiple of kAttnRowAlign and lanes past the rows are zero;
//   st    : scores and then weights, st[j * rs + r];
//   o     : unnormalised outputs, rows x head_dim, row r at o + r * head_dim;
//   m, l  : per row running max and running sum (rs each), alpha: per row rescale.
// Not collective: each thread runs its own tiles.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.hpp"

namespace inkling::kernels {

// The row stride of a tile is padded to this many lanes (one AVX2 vector).
inline constexpr int kAttnRowAlign = 8;

// st[j * rs + r] = scale * dot(k_j, query r) for j < n_keys and every lane r < rs.
void attn_scores(Isa isa, const float* k, std::int64_t k_stride, int n_keys, int head_dim, const float* qt, int rs,
                 float scale, float* st);

// One online-softmax step over a tile of (masked: -inf) scores, for every lane r < rs:
// m_new = max(m, max_j s), weights p_j = exp(s_j - m_new) written over the scores,
// alpha = exp(m - m_new), l = alpha * l + sum_j p_j, m = m_new. A row whose scores are
// all -inf so far keeps m = -inf and gets weights 0.
void attn_softmax(Isa isa, float* st, int n_keys, int rs, float* m, float* l, float* alpha);

// o[r] = alpha[r] * o[r] + sum_j p[j * rs + r] * v_j for rows r < rows.
void attn_accumulate(Isa isa, const float* p, int n_keys, int rs, int rows, const float* v, std::int64_t v_stride,
                     int head_dim, const float* alpha, float* o);

// `rows` cache rows `stride` bytes apart to contiguous f32 rows of n values: fp16 rows,
// or Q8_0 rows (n a multiple of 32).
void f16_rows_to_f32(Isa isa, const std::byte* x, std::size_t stride, int rows, std::int64_t n, float* y);
void q8_0_rows_to_f32(Isa isa, const std::byte* x, std::size_t stride, int rows, std::int64_t n, float* y);

}  // namespace inkling::kernels
