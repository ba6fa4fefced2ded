// Dispatch of the attention tile kernels to the table of an instruction-set level.
#include "kernels/attention_tile.hpp"

#include "kernels/kernel_table.hpp"

namespace inkling::kernels {

void attn_scores(Isa isa, const float* k, std::int64_t k_stride, int n_keys, int head_dim, const float* qt, int rs,
                 float scale, float* st) {
  table_for(isa).attn_scores(k, k_stride, n_keys, head_dim, qt, rs, scale, st);
}

void attn_softmax(Isa isa, float* st, int n_keys, int rs, float* m, float* l, float* alpha) {
  table_for(isa).attn_softmax(st, n_keys, rs, m, l, alpha);
}

void attn_accumulate(Isa isa, const float* p, int n_keys, int rs, int rows, const float* v, std::int64_t v_stride,
                     int head_dim, const float* alpha, float* o) {
  table_for(isa).attn_accumulate(p, n_keys, rs, rows, v, v_stride, head_dim, alpha, o);
}

void f16_rows_to_f32(Isa isa, const std::byte* x, std::size_t stride, int rows, std::int64_t n, float* y) {
  table_for(isa).f16_rows_to_f32(x, stride, rows, n, y);
}

void q8_0_rows_to_f32(Isa isa, const std::byte* x, std::size_t stride, int rows, std::int64_t n, float* y) {
  table_for(isa).q8_0_rows_to_f32(x, stride, rows, n, y);
}

}  // namespace inkling::kernels
