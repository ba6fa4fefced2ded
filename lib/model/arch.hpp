// Architecture families: each is a row of this table, a combination of the shared layers
// the forward pass knows (norm kind, RoPE style, FFN kind, fused projections, ...).
// Adding a family that only recombines them is one table entry.
#pragma once

#include <string>
#include <string_view>

#include "model/layers.hpp"

namespace inkling::detail {

enum class NormKind { Rms, Layer };          // RMSNorm, or LayerNorm with bias
enum class FfnKind { SwiGlu, GeGlu, GeluMlp };  // down(silu(gate)*up), down(gelu(gate)*up), down(gelu(up))
enum class SlidingWindow { None, AllLayers, EvenLayers };

struct ArchTraits {
  std::string_view name;
  bool rope = true;
  RopeStyle rope_style = RopeStyle::Normal;
  NormKind norm = NormKind::Rms;
  FfnKind ffn = FfnKind::SwiGlu;
  bool fused_qkv = false;       // attn_qkv: rows Q, then K, then V
  bool fused_gate_up = false;   // ffn_up: rows gate, then up
  bool position_embedding = false;  // learned absolute positions (position_embd)
  bool scale_embedding = false;     // token embedding x sqrt(n_embd)
  bool post_norms = false;          // norms on the attention and FFN outputs
  SlidingWindow window = SlidingWindow::None;  // where <arch>.attention.sliding_window applies
  // A non-causal encoder (BERT family): post-norm layers, no KV cache, no output head;
  // run by detail::encode (model/encoder.hpp) for embeddings, never by Model::forward.
  bool encoder = false;
};

// nullptr for an architecture this version does not run.
const ArchTraits* find_arch(std::string_view name) noexcept;
std::string supported_architectures();

}  // namespace inkling::detail
