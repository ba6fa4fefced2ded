#include "model/arch.hpp"

namespace inkling::detail {
namespace {

using Moe = ArchTraits::Moe;

constexpr ArchTraits kArchs[] = {
    // Llama 2/3, TinyLlama, SmolLM, Mistral (whose window, when declared, applies to all
    // layers), Mixtral (experts), Granite's and SmolLM3's bases.
    {.name = "llama", .window = SlidingWindow::AllLayers, .moe = Moe::Optional},
    {.name = "qwen2", .rope_style = RopeStyle::Neox, .partial_rotary = true},
    {.name = "qwen3", .rope_style = RopeStyle::Neox, .partial_rotary = true, .qk_norm = QkNorm::PerHead},
    {.name = "qwen3moe", .rope_style = RopeStyle::Neox, .partial_rotary = true, .qk_norm = QkNorm::PerHead,
     .moe = Moe::Always, .moe_expert_ff_key = true},
    {.name = "phi3", .rope_style = RopeStyle::Neox, .partial_rotary = true, .longrope = true, .fused_qkv = true,
     .fused_gate_up = true, .window = SlidingWindow::AllLayers},
    {.name = "gemma", .rope_style = RopeStyle::Neox, .partial_rotary = true, .act = Activation::Gelu,
     .scale_embedding = true},
    {.name = "gemma2", .rope_style = RopeStyle::Neox, .partial_rotary = true, .post_norms = true,
     .act = Activation::Gelu, .scale_embedding = true, .query_scale_n_layer = 46,
     .window = SlidingWindow::Pattern, .window_global_every = 2},
    {.name = "gemma3", .rope_style = RopeStyle::Neox, .partial_rotary = true, .rope_base_swa = 10000.0f,
     .post_norms = true, .qk_norm = QkNorm::PerHead, .act = Activation::Gelu, .scale_embedding = true,
     .query_scale_n_layer = 62, .window = SlidingWindow::Pattern, .window_global_every = 6},
    {.name = "olmo2", .rope_style = RopeStyle::Neox, .partial_rotary = true, .pre_norms = false,
     .post_norms = true, .qk_norm = QkNorm::Full},
    {.name = "granite", .scales = true},
    {.name = "smollm3", .nope_every = 4},
    {.name = "starcoder2", .rope_style = RopeStyle::Neox, .partial_rotary = true, .norm = NormKind::Layer,
     .ffn = FfnKind::Mlp, .act = Activation::Gelu},
    {.name = "gpt2", .rope = false, .norm = NormKind::Layer, .ffn = FfnKind::Mlp, .act = Activation::Gelu,
     .fused_qkv = true, .position_embedding = true},
    // Encoders (embeddings, reranking): BGE / MiniLM / E5, and nomic-embed (rotary, SwiGLU).
    {.name = "bert", .rope = false, .norm = NormKind::Layer, .ffn = FfnKind::Mlp, .act = Activation::Gelu,
     .position_embedding = true, .encoder = true},
    {.name = "nomic-bert", .rope_style = RopeStyle::Neox, .norm = NormKind::Layer, .fused_qkv = true,
     .encoder = true},
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
