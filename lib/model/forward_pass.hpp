// The blocks of one forward pass. Each is called by every member of the pass's single
// team job (Model::forward, common/thread_team.hpp): inside, a block is a sequence of
// collective matmuls (kernels.hpp) and team loops over tokens or (token, head) pairs,
// so threads start once per pass. Blocks never throw and never allocate: Model::forward
// validated the batch and grew the workspace before the job.
#pragma once

#include <cstddef>

#include "inkling/model.hpp"
#include "kernels/kernels.hpp"
#include "model/arch.hpp"
#include "model/kv_storage.hpp"
#include "model/rope.hpp"
#include "model/weights.hpp"
#include "model/workspace.hpp"

namespace inkling::detail {

struct Pass {
  const ModelConfig& c;
  const ArchTraits& arch;
  const Weights& w;
  kernels::Isa isa;
  int n;  // tokens in the batch
  const TokenId* tokens;
  const int* pos;
  const int* seq;
  KvStorage& kv;
  const RopeSetup& rope;
  int n_ctx;  // positions per sequence in the cache
  ForwardWorkspace& ws;
  int n_out;  // rows whose logits are wanted (ws.logit_rows)

  // Row t of a per-token buffer whose rows are `width` floats.
  static float* row(std::vector<float>& v, int t, int width) noexcept {
    return v.data() + static_cast<std::size_t>(t) * static_cast<std::size_t>(width);
  }
  // Floats between two tokens' rows of ws.q (fused Q/K/V keeps all three).
  int q_stride() const noexcept { return arch.fused_qkv ? c.q_dim() + 2 * c.kv_dim() : c.q_dim(); }
  // RoPE cos (or sin) of token t in frequency set `set`.
  float* rope_row(std::vector<float>& v, int set, int t) const noexcept {
    return v.data() + (static_cast<std::size_t>(set) * static_cast<std::size_t>(n) + static_cast<std::size_t>(t)) *
                          static_cast<std::size_t>(c.n_rot / 2);
  }
  // The model's norm (RMS or LayerNorm with bias) over one n_embd row.
  void norm(const float* x, const TensorView* weight, const TensorView* bias, float* y) const noexcept;
  // Adds token t's sublayer output (ws.o) to the residual stream ws.x: its bias, then its
  // post-norm (Gemma 2/3, OLMo 2) and Granite's residual scale when the model has them.
  void add_to_residual(int t, const TensorView* bias, const TensorView* post_norm) const noexcept;
  // A block's input, collectively: norm(x) of every token into ws.xn, or ws.x itself for
  // post-norm-only blocks (OLMo 2).
  const float* block_input(TeamMember& team, const TensorView* norm_weight, const TensorView* norm_bias) const;
};

// Grows every buffer of `ws` a pass over `p` uses (before the parallel region).
void grow_workspace(const Pass& p, int threads);
void grow_moe(const Pass& p);

// Token (and position) embeddings into ws.x; RoPE angles of each token's position.
void embed(const Pass& p, TeamMember& team);
// x += attention(norm(x)) for layer `il`, storing the batch's K/V in the cache.
void attention_block(const Pass& p, TeamMember& team, int il);
// ws.att = attention of every (token, head) of the batch over its sequence's cached keys
// (causal, sliding window where the layer has one), as blocked tiles.
void blocked_attention(const Pass& p, TeamMember& team, int il);
// Floats of one thread's blocked-attention scratch (ws.flash).
std::size_t blocked_attention_floats(const ModelConfig& c);
// x += ffn(norm(x)) for layer `il` (dense, or experts through moe_ffn).
void ffn_block(const Pass& p, TeamMember& team, int il);
// The mixture-of-experts FFN of layer `il`: ws.o = Σ_k w_k · expert_k(in) per token.
void moe_ffn(const Pass& p, TeamMember& team, int il, const float* in);
// Final norm and output projection of the wanted rows into `logits`.
void output_head(const Pass& p, TeamMember& team, float* logits);
// Only the final norm of the wanted rows, into `hidden` (n_out rows of n_embd).
void final_norm(const Pass& p, TeamMember& team, float* hidden);

// out = act(gate) * up over n_ff values (SiLU or GELU as the architecture says).
void activate_gated(const ArchTraits& arch, const float* gate, const float* up, float* out, int n_ff);

// The F32 view of an optional F32 tensor (norm weights, biases), or nullptr.
inline const float* f32(const TensorView* t) noexcept {
  return t ? reinterpret_cast<const float*>(t->data) : nullptr;
}

}  // namespace inkling::detail
