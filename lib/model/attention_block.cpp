// The attention block of one layer: norm, Q/K/V projections, biases, RoPE, store K/V in
// the cache, attend, output projection, residual.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/forward_pass.hpp"
#include "model/layers.hpp"

namespace inkling::detail {
namespace {

// RMS norm of a token's Q and K (before RoPE): per head with {head_dim} weights (Qwen3,
// Gemma 3) or over the whole projection (OLMo 2). In place: rms_norm reads x[i] before
// it writes y[i].
void qk_norm(const Pass& p, const LayerWeights& l, float* q, float* k) {
  const ModelConfig& c = p.c;
  switch (p.arch.qk_norm) {
    case QkNorm::PerHead:
      for (int h = 0; h < c.n_head; ++h)
        rms_norm(q + h * c.head_dim, f32(l.attn_q_norm), c.norm_eps, q + h * c.head_dim, c.head_dim);
      for (int h = 0; h < c.n_head_kv; ++h)
        rms_norm(k + h * c.head_dim, f32(l.attn_k_norm), c.norm_eps, k + h * c.head_dim, c.head_dim);
      break;
    case QkNorm::Full:
      rms_norm(q, f32(l.attn_q_norm), c.norm_eps, q, c.q_dim());
      rms_norm(k, f32(l.attn_k_norm), c.norm_eps, k, c.kv_dim());
      break;
    case QkNorm::None:
      break;
  }
}

// Token t's Q/K/V after the projections: biases, RoPE, then K and V into the cache.
// With fused Q/K/V the rows are Q, then K, then V: Q is used in place, K and V copied out.
void prepare_qkv(const Pass& p, const LayerWeights& l, int il, int t) {
  const ModelConfig& c = p.c;
  ForwardWorkspace& b = p.ws;
  const int q_dim = c.q_dim(), kv_dim = c.kv_dim();
  float* q = Pass::row(b.q, t, p.q_stride());
  float* k = Pass::row(b.k, t, kv_dim);
  float* v = Pass::row(b.v, t, kv_dim);
  if (p.arch.fused_qkv) {
    if (l.bqkv) add_in_place(q, f32(l.bqkv), p.q_stride());
    std::memcpy(k, q + q_dim, sizeof(float) * static_cast<std::size_t>(kv_dim));
    std::memcpy(v, q + q_dim + kv_dim, sizeof(float) * static_cast<std::size_t>(kv_dim));
  } else {
    if (l.bq) add_in_place(q, f32(l.bq), q_dim);
    if (l.bk) add_in_place(k, f32(l.bk), kv_dim);
    if (l.bv) add_in_place(v, f32(l.bv), kv_dim);
  }
  qk_norm(p, l, q, k);
  if (const int set = p.rope.layer_set[static_cast<std::size_t>(il)]; set >= 0) {
    const float* cs = p.rope_row(b.rope_cos, set, t);
    const float* sn = p.rope_row(b.rope_sin, set, t);
    rope_apply(q, c.n_head, c.head_dim, c.n_rot, p.arch.rope_style, cs, sn);
    rope_apply(k, c.n_head_kv, c.head_dim, c.n_rot, p.arch.rope_style, cs, sn);
  }
  p.kv.store(il, p.seq[t], p.pos[t], k, v);
}

}  // namespace

void attention_block(const Pass& p, TeamMember& team, int il) {
  const LayerWeights& l = p.w.layers[static_cast<std::size_t>(il)];
  ForwardWorkspace& b = p.ws;
  const float* in = p.block_input(team, l.attn_norm, l.attn_norm_b);

  if (p.arch.fused_qkv) {
    kernels::matmul(p.isa, *l.wqkv, in, p.n, b.q.data(), b.kernel_ws, team);
  } else {
    kernels::matmul(p.isa, *l.wq, in, p.n, b.q.data(), b.kernel_ws, team);
    kernels::matmul(p.isa, *l.wk, in, p.n, b.k.data(), b.kernel_ws, team);
    kernels::matmul(p.isa, *l.wv, in, p.n, b.v.data(), b.kernel_ws, team);
  }

  team.for_static(p.n, [&](int t) {
    prepare_qkv(p, l, il, t);
  });

  blocked_attention(p, team, il);
  kernels::matmul(p.isa, *l.wo, b.att.data(), p.n, b.o.data(), b.kernel_ws, team);

  team.for_static(p.n, [&](int t) {
    p.add_to_residual(t, l.bo, l.post_attn_norm);
  });
}

}  // namespace inkling::detail
