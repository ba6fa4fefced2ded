// The building blocks of a transformer layer, on one row (one token) at a time.
// Plain, readable loops; the numerics follow llama.cpp's CPU backend so that our
// logits match its goldens (REFERENCE.md §3).
#pragma once

#include <cstdint>

#include "kernels/kernels.hpp"

namespace inkling::detail {

// y = x / sqrt(mean(x²) + eps) * weight. Sum of squares in double, as ggml does.
void rms_norm(const float* x, const float* weight, float eps, float* y, std::int64_t n);

// y = (x - mean) / sqrt(var + eps) * weight + bias (ggml_norm: sums in double).
void layer_norm(const float* x, const float* weight, const float* bias, float eps, float* y, std::int64_t n);

// GELU, tanh approximation, evaluated as llama.cpp does: the input rounded to fp16 and
// the result rounded to fp16 (its lookup table), exact outside [-10, 10].
float gelu(float x) noexcept;
// out[i] = gelu(gate[i]) * up[i]  (GeGLU)
void gelu_mul(const float* gate, const float* up, float* out, std::int64_t n);
void gelu_in_place(float* x, std::int64_t n);

enum class RopeStyle { Normal, Neox };  // adjacent pairs, or (i, i + n_rot/2) pairs

// Rotates the first n_rot dims of each of n_heads heads (each head_dim long) in place.
void rope_apply(float* x, int n_heads, int head_dim, int n_rot, RopeStyle style,
                const float* cos_v, const float* sin_v);

// out[i] = silu(gate[i]) * up[i], silu(z) = z / (1 + e^-z).
void silu_mul(const float* gate, const float* up, float* out, std::int64_t n);
void silu_in_place(float* x, std::int64_t n);

void add_in_place(float* x, const float* y, std::int64_t n);

// One query head attending over `n_keys` cached positions whose K/V rows are `stride`
// floats apart: out = softmax(softcap(scale · K·q)) · V, where softcap(s) =
// cap · tanh(s / cap) when cap > 0. `scores` holds n_keys floats.
void attend(kernels::Isa isa, const float* q, const float* k, const float* v,
            std::int64_t stride, int n_keys, int head_dim, float scale, float softcap,
            float* scores, float* out);

}  // namespace inkling::detail
