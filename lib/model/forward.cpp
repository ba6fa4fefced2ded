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
#include "kernels/quantize_row.hpp"
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
    if (m.weights.position_embd && p >= m.config.n_ctx_train)  // learned positions: one row each
      throw Error(ErrorCode::ContextFull, "Model::forward: position " + std::to_string(p) +
                                              " is past the model's " + std::to_string(m.config.n_ctx_train) + " learned positions");
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
  const detail::ArchTraits& arch = *m.arch;
  const detail::Weights& w = m.weights;
  const int n = batch.size();
  const int n_embd = c.n_embd, q_dim = c.q_dim(), kv_dim = c.kv_dim(), n_ff = c.n_ff;
  const int qkv_dim = q_dim + 2 * kv_dim;
  const int hd = c.head_dim, group = c.n_head / c.n_head_kv, half_rot = c.n_rot / 2;
  const int threads = std::max(1, std::min(m.threads, omp_get_thread_limit()));
  const float kq_scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const float embd_scale = arch.scale_embedding ? std::sqrt(static_cast<float>(n_embd)) : 1.0f;
  const kernels::Isa isa = m.isa;
  const bool layer_norm = arch.norm == detail::NormKind::Layer;

  ForwardBuffers& b = cache.buffers;
  const auto un = static_cast<std::size_t>(n);
  grow(b.x, un * n_embd);
  grow(b.xn, un * n_embd);
  grow(b.q, un * (arch.fused_qkv ? qkv_dim : q_dim));
  grow(b.k, un * kv_dim);
  grow(b.v, un * kv_dim);
  grow(b.att, un * q_dim);
  grow(b.o, un * n_embd);
  grow(b.gate, un * 2 * n_ff);
  grow(b.up, un * n_ff);
  grow(b.rope_cos, un * half_rot);
  grow(b.rope_sin, un * half_rot);
  grow(b.scores, static_cast<std::size_t>(threads) * cache.n_ctx);
  const bool f16_cache = cache.type == DType::F16;
  if (f16_cache) grow(b.q16, static_cast<std::size_t>(threads) * hd);
  const bool q8_cache = cache.type == DType::Q8_0;
  const std::size_t q8_head = static_cast<std::size_t>(dtype_row_bytes(DType::Q8_0, hd));
  if (q8_cache) {
    grow(b.q8, static_cast<std::size_t>(threads) * q8_head);
    grow(b.v_row, static_cast<std::size_t>(threads) * hd);
  }
  b.logit_rows.clear();
  for (int i = 0; i < n; ++i)
    if (batch.want_logits[static_cast<std::size_t>(i)]) b.logit_rows.push_back(i);
  const int n_out = static_cast<int>(b.logit_rows.size());
  grow(b.out_rows, static_cast<std::size_t>(n_out) * n_embd);

  const TokenId* tokens = batch.tokens.data();
  const int* pos = batch.positions.data();
  const int* seq = batch.seq_ids.data();
  auto f32 = [](const TensorView* t) { return t ? reinterpret_cast<const float*>(t->data) : nullptr; };
  auto norm = [&](const float* x, const TensorView* weight, const TensorView* bias, float* y) {
    if (layer_norm)
      detail::layer_norm(x, f32(weight), f32(bias), c.norm_eps, y, n_embd);
    else
      detail::rms_norm(x, f32(weight), c.norm_eps, y, n_embd);
  };
  auto row = [](std::vector<float>& v, int t, int width) { return v.data() + static_cast<std::size_t>(t) * width; };

#pragma omp parallel num_threads(threads)
  {
    float* scores = b.scores.data() + static_cast<std::size_t>(omp_get_thread_num()) * cache.n_ctx;
    std::uint16_t* q16 = f16_cache ? b.q16.data() + static_cast<std::size_t>(omp_get_thread_num()) * hd : nullptr;
    std::byte* q8 = q8_cache ? b.q8.data() + static_cast<std::size_t>(omp_get_thread_num()) * q8_head : nullptr;
    float* v_row = q8_cache ? b.v_row.data() + static_cast<std::size_t>(omp_get_thread_num()) * hd : nullptr;

#pragma omp for schedule(static)
    for (int t = 0; t < n; ++t) {
      float* x = row(b.x, t, n_embd);
      kernels::dequantize_row(w.token_embd->type, w.token_embd->row(tokens[t]), x, n_embd);
      if (embd_scale != 1.0f)
        for (int i = 0; i < n_embd; ++i) x[i] *= embd_scale;
      if (w.position_embd) {
        float* p = row(b.xn, t, n_embd);  // scratch until the first norm
        kernels::dequantize_row(w.position_embd->type, w.position_embd->row(pos[t]), p, n_embd);
        detail::add_in_place(x, p, n_embd);
      }
      if (arch.rope)
        detail::rope_angles(pos[t], c.n_rot, c.rope_freq_base, c.rope_freq_scale,
                            b.rope_cos.data() + static_cast<std::size_t>(t) * half_rot,
                            b.rope_sin.data() + static_cast<std::size_t>(t) * half_rot);
    }

    for (int il = 0; il < c.n_layer; ++il) {
      const detail::LayerWeights& l = w.layers[static_cast<std::size_t>(il)];
      const bool windowed = c.sliding_window > 0 &&
                            (arch.window == detail::SlidingWindow::AllLayers ||
                             (arch.window == detail::SlidingWindow::EvenLayers && il % 2 == 0));

#pragma omp for schedule(static)
      for (int t = 0; t < n; ++t) norm(row(b.x, t, n_embd), l.attn_norm, l.attn_norm_b, row(b.xn, t, n_embd));

      if (l.wqkv) {
        kernels::matmul(isa, *l.wqkv, b.xn.data(), n, b.q.data(), b.kernel_ws);
      } else {
        kernels::matmul(isa, *l.wq, b.xn.data(), n, b.q.data(), b.kernel_ws);
        kernels::matmul(isa, *l.wk, b.xn.data(), n, b.k.data(), b.kernel_ws);
        kernels::matmul(isa, *l.wv, b.xn.data(), n, b.v.data(), b.kernel_ws);
      }

#pragma omp for schedule(static)
      for (int t = 0; t < n; ++t) {
        float* q;
        float* k;
        float* v;
        if (l.wqkv) {
          // Fused rows: Q, then K, then V. Q is used in place; K and V are copied out.
          q = row(b.q, t, qkv_dim);
          if (l.bqkv) detail::add_in_place(q, f32(l.bqkv), qkv_dim);
          k = row(b.k, t, kv_dim);
          v = row(b.v, t, kv_dim);
          std::memcpy(k, q + q_dim, sizeof(float) * kv_dim);
          std::memcpy(v, q + q_dim + kv_dim, sizeof(float) * kv_dim);
        } else {
          q = row(b.q, t, q_dim);
          k = row(b.k, t, kv_dim);
          v = row(b.v, t, kv_dim);
          if (l.bq) detail::add_in_place(q, f32(l.bq), q_dim);
          if (l.bk) detail::add_in_place(k, f32(l.bk), kv_dim);
          if (l.bv) detail::add_in_place(v, f32(l.bv), kv_dim);
        }
        if (arch.rope) {
          const float* cs = b.rope_cos.data() + static_cast<std::size_t>(t) * half_rot;
          const float* sn = b.rope_sin.data() + static_cast<std::size_t>(t) * half_rot;
          detail::rope_apply(q, c.n_head, hd, c.n_rot, arch.rope_style, cs, sn);
          detail::rope_apply(k, c.n_head_kv, hd, c.n_rot, arch.rope_style, cs, sn);
        }
        if (f16_cache) {
          kernels::to_f16(k, cache.k16_at(il, seq[t], pos[t]), kv_dim);
          kernels::to_f16(v, cache.v16_at(il, seq[t], pos[t]), kv_dim);
        } else if (q8_cache) {
          kernels::quantize_row(DType::Q8_0, k, cache.k_row(il, seq[t], pos[t]), kv_dim);
          kernels::quantize_row(DType::Q8_0, v, cache.v_row(il, seq[t], pos[t]), kv_dim);
        } else {
          std::memcpy(cache.k_at(il, seq[t], pos[t]), k, sizeof(float) * kv_dim);
          std::memcpy(cache.v_at(il, seq[t], pos[t]), v, sizeof(float) * kv_dim);
        }
      }

      const int q_stride = l.wqkv ? qkv_dim : q_dim;
      // Round-robin (chunk 1): with a causal mask a token's cost grows with its position,
      // so contiguous halves would give the last thread three times the first one's keys.
#pragma omp for collapse(2) schedule(static, 1)
      for (int t = 0; t < n; ++t) {
        for (int h = 0; h < c.n_head; ++h) {
          const int kvh = h / group;
          // A sliding window keeps the positions p with pos - p < window.
          const int first = windowed ? std::max(0, pos[t] - c.sliding_window + 1) : 0;
          const float* qh = b.q.data() + static_cast<std::size_t>(t) * q_stride + h * hd;
          if (q8_cache) {
            // The query in Q8_0 too, so each key costs one integer block dot (as
            // llama.cpp's Q8_0 cache does); heads start on block boundaries (hd % 32 == 0).
            kernels::quantize_row(DType::Q8_0, qh, q8, hd);
            const std::size_t head_off = static_cast<std::size_t>(kvh) * q8_head;
            detail::attend_q8_0(isa, q8, cache.k_row(il, seq[t], first) + head_off,
                                cache.v_row(il, seq[t], first) + head_off, cache.row_bytes, pos[t] + 1 - first, hd,
                                kq_scale, c.attn_logit_softcap, scores, v_row, row(b.att, t, q_dim) + h * hd);
            continue;
          }
          if (f16_cache) {
            kernels::to_f16(qh, q16, hd);
            detail::attend_f16(isa, q16, cache.k16_at(il, seq[t], first) + kvh * hd,
                               cache.v16_at(il, seq[t], first) + kvh * hd, kv_dim, pos[t] + 1 - first, hd, kq_scale,
                               c.attn_logit_softcap, scores, row(b.att, t, q_dim) + h * hd);
            continue;
          }
          detail::attend(isa, b.q.data() + static_cast<std::size_t>(t) * q_stride + h * hd,
                         cache.k_at(il, seq[t], first) + kvh * hd, cache.v_at(il, seq[t], first) + kvh * hd,
                         kv_dim, pos[t] + 1 - first, hd, kq_scale, c.attn_logit_softcap, scores,
                         row(b.att, t, q_dim) + h * hd);
        }
      }

      kernels::matmul(isa, *l.wo, b.att.data(), n, b.o.data(), b.kernel_ws);

#pragma omp for schedule(static)
      for (int t = 0; t < n; ++t) {
        float* x = row(b.x, t, n_embd);
        float* o = row(b.o, t, n_embd);
        if (l.bo) detail::add_in_place(o, f32(l.bo), n_embd);
        if (l.post_attn_norm) {
          detail::rms_norm(o, f32(l.post_attn_norm), c.norm_eps, row(b.xn, t, n_embd), n_embd);
          std::memcpy(o, row(b.xn, t, n_embd), sizeof(float) * n_embd);
        }
        detail::add_in_place(x, o, n_embd);
        norm(x, l.ffn_norm, l.ffn_norm_b, row(b.xn, t, n_embd));
      }

      const int up_width = l.w_up->rows() == 2LL * n_ff ? 2 * n_ff : n_ff;
      if (l.w_gate) kernels::matmul(isa, *l.w_gate, b.xn.data(), n, b.gate.data(), b.kernel_ws);
      kernels::matmul(isa, *l.w_up, b.xn.data(), n, up_width == n_ff ? b.up.data() : b.gate.data(), b.kernel_ws);

#pragma omp for schedule(static)
      for (int t = 0; t < n; ++t) {
        // The activation goes to b.up (the input of the down projection).
        float* out = row(b.up, t, n_ff);
        if (up_width == 2 * n_ff) {  // fused gate|up (Phi-3)
          const float* gu = b.gate.data() + static_cast<std::size_t>(t) * 2 * n_ff;
          detail::silu_mul(gu, gu + n_ff, out, n_ff);
        } else if (arch.ffn == detail::FfnKind::GeluMlp) {
          if (l.b_up) detail::add_in_place(out, f32(l.b_up), n_ff);
          detail::gelu_in_place(out, n_ff);
        } else {
          const float* g = b.gate.data() + static_cast<std::size_t>(t) * n_ff;
          if (arch.ffn == detail::FfnKind::GeGlu)
            detail::gelu_mul(g, out, out, n_ff);
          else
            detail::silu_mul(g, out, out, n_ff);
        }
      }

      kernels::matmul(isa, *l.w_down, b.up.data(), n, b.o.data(), b.kernel_ws);

#pragma omp for schedule(static)
      for (int t = 0; t < n; ++t) {
        float* o = row(b.o, t, n_embd);
        if (l.b_down) detail::add_in_place(o, f32(l.b_down), n_embd);
        if (l.post_ffn_norm) {
          detail::rms_norm(o, f32(l.post_ffn_norm), c.norm_eps, row(b.xn, t, n_embd), n_embd);
          std::memcpy(o, row(b.xn, t, n_embd), sizeof(float) * n_embd);
        }
        detail::add_in_place(row(b.x, t, n_embd), o, n_embd);
      }
    }

#pragma omp for schedule(static)
    for (int r = 0; r < n_out; ++r)
      norm(row(b.x, b.logit_rows[static_cast<std::size_t>(r)], n_embd), w.output_norm, w.output_norm_b,
           b.out_rows.data() + static_cast<std::size_t>(r) * n_embd);

    if (n_out > 0) kernels::matmul(isa, *w.output, b.out_rows.data(), n_out, logits_out.data(), b.kernel_ws);

    if (c.final_logit_softcap > 0) {
      const float cap = c.final_logit_softcap;
      const std::int64_t total = static_cast<std::int64_t>(n_out) * c.n_vocab;
#pragma omp for schedule(static)
      for (std::int64_t i = 0; i < total; ++i) logits_out[static_cast<std::size_t>(i)] = cap * std::tanh(logits_out[static_cast<std::size_t>(i)] / cap);
    }
  }

  for (int t = 0; t < n; ++t) {
    int& len = cache.length[static_cast<std::size_t>(seq[t])];
    len = pos[t] + 1;
  }
}

}  // namespace inkling
