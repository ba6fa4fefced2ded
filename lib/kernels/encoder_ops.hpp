// The per-token steps of an encoder layer around its matmuls, fused and vectorised:
// the residual add with LayerNorm that ends every BERT block, and the bias add with
// GELU of its feed-forward. Row by row, dispatched by instruction-set level like the
// matmul kernels (kernel_table.hpp); the scalar versions are the reference.
#pragma once

#include <cstdint>

#include "kernels/kernels.hpp"

namespace inkling::kernels {

// x = LayerNorm(o + bias + x) * weight + norm_bias over n values (mean and variance of
// the sum; 1 / sqrt(variance + eps)). o, bias and norm_bias may be null (zero).
void add_norm(Isa isa, float* x, const float* o, const float* bias, const float* weight, const float* norm_bias,
              float eps, std::int64_t n);

// x[i] = gelu(x[i] + bias[i]) through `table`, the GELU of every fp16 input indexed by
// its bits (model/gelu_table.hpp): the sum is rounded to fp16 and looked up, as
// llama.cpp does; at or below -10 the result is 0, at or above 10 the sum itself.
// bias may be null.
void bias_gelu(Isa isa, float* x, const float* bias, const float* table, std::int64_t n);

namespace ref {
void add_norm(float* x, const float* o, const float* bias, const float* weight, const float* norm_bias, float eps,
              std::int64_t n);
void bias_gelu(float* x, const float* bias, const float* table, std::int64_t n);
}  // namespace ref

}  // namespace inkling::kernels
