// The attention block of one layer: norm, Q/K/V projections, biases, RoPE, store K/V in
// the cache, attend, output projection, residual.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/forward_pass.hpp"
#include "model/layers.hpp"

namespace inkling::detail {
namespace {

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
  if (p.arch.rope) {
    const std::size_t half = static_cast<std::size_t>(c.n_rot / 2);
    const float* cs = b.rope_cos.data() + static_cast<std::size_t>(t) * half;
    const float* sn = b.rope_sin.data() + static_cast<std::size_t>(t) * half;
    rope_apply(q, c.n_head, c.head_dim, c.n_rot, p.arch.rope_style, cs, sn);
    rope_apply(k, c.n_head_kv, c.head_dim, c.n_rot, p.arch.rope_style, cs, sn);
  }
  p.kv.store(il, p.seq[t], p.pos[t], k, v);
}

// Every (token, head) query over its sequence's cached keys, into ws.att.
void attend_all(const Pass& p, int il) {
  const ModelConfig& c = p.c;
  ForwardWorkspace& b = p.ws;
  const int hd = c.head_dim, group = c.n_head / c.n_head_kv, q_stride = p.q_stride(), q_dim = c.q_dim();
  const float kq_scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int window = layer_windowed(p.arch, c.sliding_window, il) ? c.sliding_window : 0;
  const AttendScratch scratch = b.attend_scratch(omp_get_thread_num(), p.n_ctx, hd, p.kv.type());
  // Round-robin (chunk 1): with a causal mask a token's cost grows with its position,
  // so contiguous halves would give the last thread three times the first one's keys.
#pragma omp for collapse(2) schedule(static, 1)
  for (int t = 0; t < p.n; ++t) {
    for (int h = 0; h < c.n_head; ++h) {
      // A sliding window keeps the positions j with pos - j < window.
      const int first = window > 0 ? std::max(0, p.pos[t] - window + 1) : 0;
      const float* qh = b.q.data() + static_cast<std::size_t>(t) * q_stride + h * hd;
      p.kv.attend(p.isa, il, p.seq[t], h / group, hd, first, p.pos[t] + 1 - first, qh, kq_scale,
                  c.attn_logit_softcap, scratch, Pass::row(b.att, t, q_dim) + h * hd);
    }
  }
}

}  // namespace

void attention_block(const Pass& p, int il) {
  const ModelConfig& c = p.c;
  const LayerWeights& l = p.w.layers[static_cast<std::size_t>(il)];
  ForwardWorkspace& b = p.ws;
  const int n_embd = c.n_embd;

#pragma omp for schedule(static)
  for (int t = 0; t < p.n; ++t) p.norm(Pass::row(b.x, t, n_embd), l.attn_norm, l.attn_norm_b, Pass::row(b.xn, t, n_embd));

  if (p.arch.fused_qkv) {
    kernels::matmul(p.isa, *l.wqkv, b.xn.data(), p.n, b.q.data(), b.kernel_ws);
  } else {
    kernels::matmul(p.isa, *l.wq, b.xn.data(), p.n, b.q.data(), b.kernel_ws);
    kernels::matmul(p.isa, *l.wk, b.xn.data(), p.n, b.k.data(), b.kernel_ws);
    kernels::matmul(p.isa, *l.wv, b.xn.data(), p.n, b.v.data(), b.kernel_ws);
  }

#pragma omp for schedule(static)
  for (int t = 0; t < p.n; ++t) prepare_qkv(p, l, il, t);

  attend_all(p, il);
  kernels::matmul(p.isa, *l.wo, b.att.data(), p.n, b.o.data(), b.kernel_ws);

#pragma omp for schedule(static)
  for (int t = 0; t < p.n; ++t) {
    float* o = Pass::row(b.o, t, n_embd);
    if (l.bo) add_in_place(o, f32(l.bo), n_embd);
    if (l.post_attn_norm) {
      float* tmp = Pass::row(b.xn, t, n_embd);
      rms_norm(o, f32(l.post_attn_norm), c.norm_eps, tmp, n_embd);
      std::memcpy(o, tmp, sizeof(float) * static_cast<std::size_t>(n_embd));
    }
    add_in_place(Pass::row(b.x, t, n_embd), o, n_embd);
  }
}

}  // namespace inkling::detail
