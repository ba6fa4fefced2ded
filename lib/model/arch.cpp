#include "model/arch.hpp"

namespace inkling::detail {
namespace {

constexpr ArchTraits kArchs[] = {
    // Llama 2/3, TinyLlama, SmolLM, Mistral (whose window, when declared, applies to all layers).
    {.name = "llama", .window = SlidingWindow::AllLayers},
    {.name = "qwen2", .rope_style = RopeStyle::Neox, .partial_rotary = true},
    {.name = "phi3", .rope_style = RopeStyle::Neox, .partial_rotary = true, .fused_qkv = true,
     .fused_gate_up = true, .window = SlidingWindow::AllLayers},
    {.name = "gemma", .rope_style = RopeStyle::Neox, .partial_rotary = true, .act = Activation::Gelu,
     .scale_embedding = true},
    {.name = "gemma2", .rope_style = RopeStyle::Neox, .partial_rotary = true, .act = Activation::Gelu,
     .scale_embedding = true, .post_norms = true, .window = SlidingWindow::Pattern, .window_global_every = 2},
    {.name = "starcoder2", .rope_style = RopeStyle::Neox, .partial_rotary = true, .norm = NormKind::Layer,
     .ffn = FfnKind::Mlp, .act = Activation::Gelu},
    {.name = "gpt2", .rope = false, .norm = NormKind::Layer, .ffn = FfnKind::Mlp, .act = Activation::Gelu,
     .fused_qkv = true, .position_embedding = true},
};

}  // namespace

const ArchTraits* find_arch(std::string_view name) noexcept {
  for (const auto& a : kArchs)
    if (a.name == name) return &a;
  return nullptr;
}

bool layer_windowed(const ArchTraits& arch, int window, int layer) noexcept {
  if (window <= 0) return false;
  switch (arch.window) {
    case SlidingWindow::AllLayers: return true;
    case SlidingWindow::Pattern: return (layer + 1) % arch.window_global_every != 0;
    default: return false;
  }
}

std::string supported_architectures() {
  std::string out;
  for (const auto& a : kArchs) {
    if (!out.empty()) out += ", ";
    out += a.name;
  }
  return out;
}

}  // namespace inkling::detail
