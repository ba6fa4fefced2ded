// Architecture families: each is a row of this table, a combination of the shared layers
// the forward pass knows (norm kind, RoPE style, FFN kind, activation, fused projections,
// ...). Every difference between families is a field here; nothing is inferred from a
// family's name or a tensor's shape. Adding a family that only recombines them is one row.
#pragma once

#include <string>
#include <string_view>

#include "model/layers.hpp"

namespace inkling::detail {

enum class NormKind { Rms, Layer };   // RMSNorm, or LayerNorm with bias
enum class FfnKind { Gated, Mlp };    // down(act(gate) * up), or down(act(up + bias))
enum class Activation { Silu, Gelu };
// Where <arch>.attention.sliding_window applies: nowhere, every layer, or every layer
// but each `window_global_every`-th (counting from 1), which attends globally.
enum class SlidingWindow { None, AllLayers, Pattern };
// RMS norm of Q and K after the projections: none, per head ({head_dim} weights, Qwen3,
// Gemma 3), or over the whole projection ({q_dim} / {kv_dim} weights, OLMo 2).
enum class QkNorm { None, PerHead, Full };

struct ArchTraits {
  std::string_view name;
  bool rope = true;
  RopeStyle rope_style = RopeStyle::Normal;
  bool partial_rotary = false;  // rope.dimension_count may be below the head size
  bool longrope = false;        // rope_factors_long/short chosen by context length (Phi-3)
  int nope_every = 0;           // > 0: every n-th layer (counting from 1) skips RoPE (SmolLM3)
  float rope_base_swa = 0;      // > 0: RoPE base of windowed layers unless rope.freq_base_swa says
  NormKind norm = NormKind::Rms;
  bool pre_norms = true;        // norms on the block inputs (OLMo 2 has none)
  bool post_norms = false;      // norms on the attention and FFN outputs
  QkNorm qk_norm = QkNorm::None;
  FfnKind ffn = FfnKind::Gated;
  Activation act = Activation::Silu;
  bool fused_qkv = false;       // attn_qkv: rows Q, then K, then V
  bool fused_gate_up = false;   // ffn_up: rows gate, then up
  bool position_embedding = false;  // learned absolute positions (position_embd)
  bool scale_embedding = false;     // token embedding x sqrt(n_embd)
  bool scales = false;              // Granite's embedding/attention/residual/logit scale keys
  // When n_layer equals this, Q is scaled by 1/sqrt(n_embd / n_head) instead of
  // 1/sqrt(head_dim) (Gemma 2/3 27B: GGUF stores no query_pre_attn_scalar).
  int query_scale_n_layer = 0;
  SlidingWindow window = SlidingWindow::None;
  int window_global_every = 0;      // SlidingWindow::Pattern: every n-th layer is global
  // Experts: None (dense only), Optional (expert_count > 0 turns the FFN into experts,
  // Mixtral as "llama"), Always (qwen3moe).
  enum class Moe { None, Optional, Always } moe = Moe::None;
  bool moe_expert_ff_key = false;   // the expert width is expert_feed_forward_length
  bool moe_norm_weights = true;     // the chosen experts' weights are renormalised to sum 1
  // A non-causal encoder (BERT family): post-norm layers, no KV cache, no output head;
  // run by detail::encode (model/encoder.hpp) for embeddings, never by Model::forward.
  bool encoder = false;
};

// nullptr for an architecture this version does not run.
const ArchTraits* find_arch(std::string_view name) noexcept;
std::string supported_architectures();

// Whether layer `layer` attends through a window of `window` positions (0: no window).
bool layer_windowed(const ArchTraits& arch, int window, int layer) noexcept;

}  // namespace inkling::detail
