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

struct ArchTraits {
  std::string_view name;
  bool rope = true;
  RopeStyle rope_style = RopeStyle::Normal;
  bool partial_rotary = false;  // rope.dimension_count may be below the head size
  NormKind norm = NormKind::Rms;
  FfnKind ffn = FfnKind::Gated;
  Activation act = Activation::Silu;
  bool fused_qkv = false;       // attn_qkv: rows Q, then K, then V
  bool fused_gate_up = false;   // ffn_up: rows gate, then up
  bool position_embedding = false;  // learned absolute positions (position_embd)
  bool scale_embedding = false;     // token embedding x sqrt(n_embd)
  bool post_norms = false;          // norms on the attention and FFN outputs
  SlidingWindow window = SlidingWindow::None;
  int window_global_every = 0;      // SlidingWindow::Pattern: every n-th layer is global
};

// nullptr for an architecture this version does not run.
const ArchTraits* find_arch(std::string_view name) noexcept;
std::string supported_architectures();

// Whether layer `layer` attends through a window of `window` positions (0: no window).
bool layer_windowed(const ArchTraits& arch, int window, int layer) noexcept;

}  // namespace inkling::detail
