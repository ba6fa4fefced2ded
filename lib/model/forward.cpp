// Model::forward: validation, then one OpenMP parallel region running the blocks of
// forward_pass.hpp (embed, per layer attention and FFN, output head). Threads start once
// per pass, and nothing is allocated once the workspace has grown to the batch size.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "inkling/error.hpp"
#include "model/forward_pass.hpp"
#include "model/kv_cache_impl.hpp"
#include "model/layers.hpp"
#include "model/model_impl.hpp"

namespace inkling {
namespace detail {

void Pass::norm(const float* x, const TensorView* weight, const TensorView* bias, float* y) const noexcept {
  if (arch.norm == NormKind::Layer)
    layer_norm(x, f32(weight), f32(bias), c.norm_eps, y, c.n_embd);
  else
    rms_norm(x, f32(weight), c.norm_eps, y, c.n_embd);
}

const float* Pass::block_input(TeamMember& team, const TensorView* norm_weight, const TensorView* norm_bias) const {
  if (!arch.pre_norms) return ws.x.data();
  team.for_static(n, [&](int t) {
    norm(row(ws.x, t, c.n_embd), norm_weight, norm_bias, row(ws.xn, t, c.n_embd));
  });
  return ws.xn.data();
}

void Pass::add_to_residual(int t, const TensorView* bias, const TensorView* post_norm) const noexcept {
  const int n_embd = c.n_embd;
  float* o = row(ws.o, t, n_embd);
  if (bias) add_in_place(o, f32(bias), n_embd);
  if (post_norm) {
    float* tmp = row(ws.xn, t, n_embd);
    rms_norm(o, f32(post_norm), c.norm_eps, tmp, n_embd);
    std::memcpy(o, tmp, sizeof(float) * static_cast<std::size_t>(n_embd));
  }
  if (c.residual_scale != 1.0f)
    for (int i = 0; i < n_embd; ++i) o[i] *= c.residual_scale;
  add_in_place(row(ws.x, t, n_embd), o, n_embd);
}

void grow_workspace(const Pass& p, int threads) {
  const ModelConfig& c = p.c;
  ForwardWorkspace& b = p.ws;
  const auto n = static_cast<std::size_t>(p.n);
  const std::size_t n_embd = static_cast<std::size_t>(c.n_embd), kv_dim = static_cast<std::size_t>(c.kv_dim());
  const std::size_t n_ff = static_cast<std::size_t>(c.n_ff);
  ForwardWorkspace::grow(b.x, n * n_embd);
  ForwardWorkspace::grow(b.xn, n * n_embd);
  ForwardWorkspace::grow(b.q, n * static_cast<std::size_t>(p.q_stride()));
  ForwardWorkspace::grow(b.k, n * kv_dim);
  ForwardWorkspace::grow(b.v, n * kv_dim);
  ForwardWorkspace::grow(b.att, n * static_cast<std::size_t>(c.q_dim()));
  ForwardWorkspace::grow(b.o, n * n_embd);
  ForwardWorkspace::grow(b.gate, n * (p.arch.fused_gate_up ? 2 : 1) * n_ff);
  ForwardWorkspace::grow(b.up, n * n_ff);
  const std::size_t rope_n = n * static_cast<std::size_t>(p.rope.n_sets) * static_cast<std::size_t>(c.n_rot / 2);
  ForwardWorkspace::grow(b.rope_cos, rope_n);
  ForwardWorkspace::grow(b.rope_sin, rope_n);
  if (c.n_expert > 0) grow_moe(p);
  ForwardWorkspace::grow(b.out_rows, static_cast<std::size_t>(p.n_out) * n_embd);
  ForwardWorkspace::grow(b.flash, static_cast<std::size_t>(threads) * blocked_attention_floats(c));
}

void embed(const Pass& p, TeamMember& team) {
  const ModelConfig& c = p.c;
  const Weights& w = p.w;
  ForwardWorkspace& b = p.ws;
  const int n_embd = c.n_embd;
  const float embd_scale = c.embedding_scale;
  team.for_static(p.n, [&](int t) {
    float* x = Pass::row(b.x, t, n_embd);
    kernels::dequantize_row(w.token_embd->type, w.token_embd->row(p.tokens[t]), x, n_embd);
    if (embd_scale != 1.0f)
      for (int i = 0; i < n_embd; ++i) x[i] *= embd_scale;
    if (w.position_embd) {
      float* pe = Pass::row(b.xn, t, n_embd);  // scratch until the first norm
      kernels::dequantize_row(w.position_embd->type, w.position_embd->row(p.pos[t]), pe, n_embd);
      add_in_place(x, pe, n_embd);
    }
    if (p.arch.rope)
      for (int s = 0; s < p.rope.n_sets; ++s)
        rope_angles(p.pos[t], p.rope.sets[s], /*unit=*/false, p.rope_row(b.rope_cos, s, t), p.rope_row(b.rope_sin, s, t));
  });
}

void final_norm(const Pass& p, TeamMember& team, float* hidden) {
  const ModelConfig& c = p.c;
  ForwardWorkspace& b = p.ws;
  team.for_static(p.n_out, [&](int r) {
    p.norm(Pass::row(b.x, b.logit_rows[static_cast<std::size_t>(r)], c.n_embd), p.w.output_norm,
             p.w.output_norm_b, hidden + static_cast<std::size_t>(r) * c.n_embd);
  });
}

void output_head(const Pass& p, TeamMember& team, float* logits) {
  const ModelConfig& c = p.c;
  ForwardWorkspace& b = p.ws;
  final_norm(p, team, b.out_rows.data());

  if (p.n_out > 0) kernels::matmul(p.isa, *p.w.output, b.out_rows.data(), p.n_out, logits, b.kernel_ws, team);

  if (c.logit_scale != 1.0f) {  // Granite: logits / logit_scale, as a product like llama.cpp
    const float inv = 1.0f / c.logit_scale;
    const std::int64_t total = static_cast<std::int64_t>(p.n_out) * c.n_vocab;
    team.for_static(total, [&](std::int64_t i) {
      logits[i] *= inv;
    });
  }
  if (c.final_logit_softcap > 0) {
    const float cap = c.final_logit_softcap;
    const std::int64_t total = static_cast<std::int64_t>(p.n_out) * c.n_vocab;
    team.for_static(total, [&](std::int64_t i) {
      logits[i] = cap * std::tanh(logits[i] / cap);
    });
  }
}

}  // namespace detail

namespace {

// Checks everything that could fail before any thread starts: exceptions must never
// cross an OpenMP region.
void validate(const Model::Impl& m, const Batch& batch, const detail::KVCacheView& cache,
              std::size_t logits_size, int row_width) {
  const int n = batch.size();
  if (n == 0) throw Error(ErrorCode::InvalidArgument, "Model::forward: empty batch");
  if (batch.positions.size() != batch.tokens.size() ||
      batch.seq_ids.size() != batch.tokens.size() ||
      batch.want_logits.size() != batch.tokens.size())
    throw Error(ErrorCode::InvalidArgument, "Model::forward: batch arrays differ in length");
  if (cache.owner != &m.config)
    throw Error(ErrorCode::InvalidArgument,
                "Model::forward: the KV cache was created for a different model");
  const std::size_t need = static_cast<std::size_t>(batch.n_logits()) * row_width;
  if (logits_size < need)
    throw Error(ErrorCode::BufferTooSmall, "Model::forward: logits buffer holds " +
                                               std::to_string(logits_size) + " floats, " +
                                               std::to_string(need) + " needed");
  // Per sequence, positions must continue the cached ones (or rewrite from an earlier
  // position) without gaps, so every key a token attends to exists.
  std::vector<int>& next = cache.ws.seq_next;
  std::vector<std::uint8_t>& seen = cache.ws.seq_seen;
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

// One pass; the wanted rows end as logits, or (hidden) as final normed hidden states.
void run_pass(const Model::Impl& m, const Batch& batch, KVCache& kv_cache, std::span<float> out, bool hidden) {
  const detail::KVCacheView cache = detail::KVCacheAccess::view(kv_cache);
  validate(m, batch, cache, out.size(), hidden ? m.config.n_embd : m.config.n_vocab);

  detail::ForwardWorkspace& ws = cache.ws;
  ws.logit_rows.clear();
  for (int i = 0; i < batch.size(); ++i)
    if (batch.want_logits[static_cast<std::size_t>(i)]) ws.logit_rows.push_back(i);
  const detail::Pass pass{m.config, *m.arch, m.weights, m.isa, batch.size(), batch.tokens.data(),
                          batch.positions.data(), batch.seq_ids.data(), cache.kv, cache.rope, cache.n_ctx, ws,
                          static_cast<int>(ws.logit_rows.size())};
  const int threads = std::max(1, m.threads);
  detail::grow_workspace(pass, threads);

  ws.team.run(threads, [&](detail::TeamMember& team) {
    detail::embed(pass, team);
    for (int il = 0; il < m.config.n_layer; ++il) {
      detail::attention_block(pass, team, il);
      detail::ffn_block(pass, team, il);
    }
    if (hidden)
      detail::final_norm(pass, team, out.data());
    else
      detail::output_head(pass, team, out.data());
  });

  for (int t = 0; t < batch.size(); ++t)
    cache.length[static_cast<std::size_t>(batch.seq_ids[static_cast<std::size_t>(t)])] =
        batch.positions[static_cast<std::size_t>(t)] + 1;
}

}  // namespace

void Model::forward(const Batch& batch, KVCache& kv_cache, std::span<float> logits_out) const {
  run_pass(*impl_, batch, kv_cache, logits_out, false);
}

void Model::forward_hidden(const Batch& batch, KVCache& kv_cache, std::span<float> hidden_out) const {
  run_pass(*impl_, batch, kv_cache, hidden_out, true);
}

}  // namespace inkling
