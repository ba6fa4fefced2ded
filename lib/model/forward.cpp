// The Llama forward pass over a batch of tokens, in one OpenMP parallel region:
// every step is either a collective matmul (kernels.hpp) or an `omp for` over tokens
// or (token, head) pairs, so threads start once per pass and nothing is allocated
// once the buffers have grown to the batch size.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "inkling/error.hpp"
#include "model/kv_cache_impl.hpp"
#include "model/layers.hpp"
#include "model/model_impl.hpp"

namespace inkling {
namespace {

template <typename T>
void grow(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
}

// Checks everything that could fail before any thread starts: exceptions must never
// cross an OpenMP region.
void validate(const Model::Impl& m, const Batch& batch, KVCache::Impl& cache,
              std::size_t logits_size) {
  const int n = batch.size();
  if (n == 0) throw Error(ErrorCode::InvalidArgument, "Model::forward: empty batch");
  if (batch.positions.size() != batch.tokens.size() ||
      batch.seq_ids.size() != batch.tokens.size() ||
      batch.want_logits.size() != batch.tokens.size())
    throw Error(ErrorCode::InvalidArgument, "Model::forward: batch arrays differ in length");
  if (cache.owner != &m.config)
    throw Error(ErrorCode::InvalidArgument,
                "Model::forward: the KV cache was created for a different model");
  const std::size_t need = static_cast<std::size_t>(batch.n_logits()) * m.config.n_vocab;
  if (logits_size < need)
    throw Error(ErrorCode::BufferTooSmall, "Model::forward: logits buffer holds " +
                                               std::to_string(logits_size) + " floats, " +
                                               std::to_string(need) + " needed");
  // Per sequence, positions must continue the cached ones (or rewrite from an earlier
  // position) without gaps, so every key a token attends to exists.
  std::vector<int>& next = cache.buffers.seq_next;
  std::vector<std::uint8_t>& seen = cache.buffers.seq_seen;
  next.assign(cache.length.begin(), cache.length.end());
  seen.assign(static_cast<std::size_t>(cache.n_seq), 0);
  for (int i = 0; i < n; ++i) {
    const TokenId t = batch.tokens[static_cast<std::size_t>(i)];
    const int s = batch.seq_ids[static_cast<std::size_t>(i)];
    const int p = batch.positions[static_cast<std::size_t>(i)];
    if (t < 0 || t >= m.config.n_vocab)
      throw Error(ErrorCode::InvalidArgument, "Model::forward: token id " + std::to_string(t) +
                                                  " is out of range [0, " +
                                                  std::to_string(m.config.n_vocab) + ")");
    if (s < 0 || s >= cache.n_seq)
      throw Error(ErrorCode::InvalidArgument, "Model::forward: sequence id " + std::to_string(s) +
                                                  " is out of range [0, " +
                                                  std::to_string(cache.n_seq) + ")");
    if (p < 0)
      throw Error(ErrorCode::InvalidArgument,
                  "Model::forward: negative position " + std::to_string(p));
    if (p >= cache.n_ctx)
      throw Error(ErrorCode::ContextFull, "Model::forward: position " + std::to_string(p) +
                                              " does not fit in a context of " +
                                              std::to_string(cache.n_ctx) + " positions");
    int& expect = next[static_cast<std::size_t>(s)];
    if (seen[static_cast<std::size_t>(s)] && p != expect)
      throw Error(ErrorCode::InvalidArgument,
                  "Model::forward: positions of sequence " + std::to_string(s) +
                      " within a batch must be consecutive (got " + std::to_string(p) +
                      " after " + std::to_string(expect - 1) + ")");
    seen[static_cast<std::size_t>(s)] = 1;
    if (p > expect)
      throw Error(ErrorCode::InvalidArgument,
                  "Model::forward: sequence " + std::to_string(s) + " jumps to position " +
                      std::to_string(p) + " but only " + std::to_string(expect) +
                      " positions are cached");
    expect = p + 1;
  }
}

}  // namespace

void Model::forward(const Batch& batch, KVCache& kv_cache, std::span<float> logits_out) const {
  const Impl& m = *impl_;
  KVCache::Impl& cache = kv_cache.impl();
  validate(m, batch, cache, logits_out.size());

  const ModelConfig& c = m.config;
  const detail::Weights& w = m.weights;
  const int n = batch.size();
  const int n_embd = c.n_embd, q_dim = c.q_dim(), kv_dim = c.kv_dim(), n_ff = c.n_ff;
  const int hd = c.head_dim, group = c.n_head / c.n_head_kv, half_rot = c.n_rot / 2;
  const int threads = std::max(1, std::min(m.threads, omp_get_thread_limit()));
  const float kq_scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const kernels::Isa isa = m.isa;

  ForwardBuffers& b = cache.buffers;
  const auto un = static_cast<std::size_t>(n);
  grow(b.x, un * n_embd);
  grow(b.xn, un * n_embd);
  grow(b.q, un * q_dim);
  grow(b.k, un * kv_dim);
  grow(b.v, un * kv_dim);
  grow(b.att, un * q_dim);
  grow(b.o, un * n_embd);
  grow(b.gate, un * n_ff);
  grow(b.up, un * n_ff);
  grow(b.rope_cos, un * half_rot);
  grow(b.rope_sin, un * half_rot);
  grow(b.scores, static_cast<std::size_t>(threads) * cache.n_ctx);
  b.logit_rows.clear();
  for (int i = 0; i < n; ++i)
    if (batch.want_logits[static_cast<std::size_t>(i)]) b.logit_rows.push_back(i);
  const int n_out = static_cast<int>(b.logit_rows.size());
  grow(b.out_rows, static_cast<std::size_t>(n_out) * n_embd);

  const TokenId* tokens = batch.tokens.data();
  const int* pos = batch.positions.data();
  const int* seq = batch.seq_ids.data();
  auto f32 = [](const TensorView* t) { return reinterpret_cast<const float*>(t->data); };

#pragma omp parallel num_threads(threads)
  {
    float* scores = b.scores.data() + static_cast<std::size_t>(omp_get_thread_num()) * cache.n_ctx;

#pragma omp for schedule(static)
    for (int t = 0; t < n; ++t) {
      kernels::dequantize_row(w.token_embd->type, w.token_embd->row(tokens[t]),
                              b.x.data() + static_cast<std::size_t>(t) * n_embd, n_embd);
      detail::rope_angles(pos[t], c.n_rot, c.rope_freq_base, c.rope_freq_scale,
                          b.rope_cos.data() + static_cast<std::size_t>(t) * half_rot,
                          b.rope_sin.data() + static_cast<std::size_t>(t) * half_rot);
    }

    for (int il = 0; il < c.n_layer; ++il) {
      const detail::LayerWeights& l = w.layers[static_cast<std::size_t>(il)];

#pragma omp for schedule(static)
      for (int t = 0; t < n; ++t)
        detail::rms_norm(b.x.data() + static_cast<std::size_t>(t) * n_embd, f32(l.attn_norm),
                         c.norm_eps, b.xn.data() + static_cast<std::size_t>(t) * n_embd, n_embd);

      kernels::matmul(isa, *l.wq, b.xn.data(), n, b.q.data(), b.kernel_ws);
      kernels::matmul(isa, *l.wk, b.xn.data(), n, b.k.data(), b.kernel_ws);
      kernels::matmul(isa, *l.wv, b.xn.data(), n, b.v.data(), b.kernel_ws);

#pragma omp for schedule(static)
      for (int t = 0; t < n; ++t) {
        float* q = b.q.data() + static_cast<std::size_t>(t) * q_dim;
        float* k = b.k.data() + static_cast<std::size_t>(t) * kv_dim;
        const float* v = b.v.data() + static_cast<std::size_t>(t) * kv_dim;
        if (l.bq) detail::add_in_place(q, f32(l.bq), q_dim);
        if (l.bk) detail::add_in_place(k, f32(l.bk), kv_dim);
        const float* cs = b.rope_cos.data() + static_cast<std::size_t>(t) * half_rot;
        const float* sn = b.rope_sin.data() + static_cast<std::size_t>(t) * half_rot;
        detail::rope_apply(q, c.n_head, hd, c.n_rot, detail::RopeStyle::Normal, cs, sn);
        detail::rope_apply(k, c.n_head_kv, hd, c.n_rot, detail::RopeStyle::Normal, cs, sn);
        std::memcpy(cache.k_at(il, seq[t], pos[t]), k, sizeof(float) * kv_dim);
        float* vc = cache.v_at(il, seq[t], pos[t]);
        std::memcpy(vc, v, sizeof(float) * kv_dim);
        if (l.bv) detail::add_in_place(vc, f32(l.bv), kv_dim);
      }

#pragma omp for collapse(2) schedule(static)
      for (int t = 0; t < n; ++t) {
        for (int h = 0; h < c.n_head; ++h) {
          const int kvh = h / group;
          detail::attend(isa, b.q.data() + static_cast<std::size_t>(t) * q_dim + h * hd,
                         cache.k_at(il, seq[t], 0) + kvh * hd, cache.v_at(il, seq[t], 0) + kvh * hd,
                         kv_dim, pos[t] + 1, hd, kq_scale, scores,
                         b.att.data() + static_cast<std::size_t>(t) * q_dim + h * hd);
        }
      }

      kernels::matmul(isa, *l.wo, b.att.data(), n, b.o.data(), b.kernel_ws);

#pragma omp for schedule(static)
      for (int t = 0; t < n; ++t) {
        float* x = b.x.data() + static_cast<std::size_t>(t) * n_embd;
        const float* o = b.o.data() + static_cast<std::size_t>(t) * n_embd;
        if (l.bo) detail::add_in_place(x, f32(l.bo), n_embd);
        detail::add_in_place(x, o, n_embd);
        detail::rms_norm(x, f32(l.ffn_norm), c.norm_eps,
                         b.xn.data() + static_cast<std::size_t>(t) * n_embd, n_embd);
      }

      kernels::matmul(isa, *l.w_gate, b.xn.data(), n, b.gate.data(), b.kernel_ws);
      kernels::matmul(isa, *l.w_up, b.xn.data(), n, b.up.data(), b.kernel_ws);

#pragma omp for schedule(static)
      for (int t = 0; t < n; ++t) {
        float* g = b.gate.data() + static_cast<std::size_t>(t) * n_ff;
        detail::silu_mul(g, b.up.data() + static_cast<std::size_t>(t) * n_ff, g, n_ff);
      }

      kernels::matmul(isa, *l.w_down, b.gate.data(), n, b.o.data(), b.kernel_ws);

#pragma omp for schedule(static)
      for (int t = 0; t < n; ++t)
        detail::add_in_place(b.x.data() + static_cast<std::size_t>(t) * n_embd,
                             b.o.data() + static_cast<std::size_t>(t) * n_embd, n_embd);
    }

#pragma omp for schedule(static)
    for (int r = 0; r < n_out; ++r)
      detail::rms_norm(b.x.data() + static_cast<std::size_t>(b.logit_rows[static_cast<std::size_t>(r)]) * n_embd,
                       f32(w.output_norm), c.norm_eps,
                       b.out_rows.data() + static_cast<std::size_t>(r) * n_embd, n_embd);

    if (n_out > 0) kernels::matmul(isa, *w.output, b.out_rows.data(), n_out, logits_out.data(), b.kernel_ws);
  }

  for (int t = 0; t < n; ++t) {
    int& len = cache.length[static_cast<std::size_t>(seq[t])];
    len = pos[t] + 1;
  }
}

}  // namespace inkling
