// Dispatch of the attention tile kernels to the table of an instruction-set level.
#include "kernels/attention_tile.hpp"

#include "kernels/kernel_table.hpp"

namespace inkling::kernels {

void attn_scores(Isa isa, const float* k, int n_keys, int head_dim, const float* qt, int rs, float scale, float* st) {
  table_for(isa).attn_scores(k, n_keys, head_dim, qt, rs, scale, st);
}

void attn_softmax(Isa isa, float* st, int n_keys, int rs, float* m, float* l, float* alpha) {
  table_for(isa).attn_softmax(st, n_keys, rs, m, l, alpha);
}

void attn_accumulate(Isa isa, const float* p, int n_keys, int rs, int rows, const float* v, int head_dim,
                     const float* alpha, float* o) {
  table_for(isa).attn_accumulate(p, n_keys, rs, rows, v, head_dim, alpha, o);
}

void f16_to_f32(Isa isa, const std::uint16_t* x, float* y, std::int64_t n) { table_for(isa).f16_to_f32(x, y, n); }

void q8_0_to_f32(Isa isa, const std::byte* x, float* y, std::int64_t n) { table_for(isa).q8_0_to_f32(x, y, n); }

}  // namespace inkling::kernels
