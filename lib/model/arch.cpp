#include "model/arch.hpp"

namespace inkling::detail {
namespace {

constexpr ArchTraits kArchs[] = {
    // Llama 2/3, TinyLlama, SmolLM, Mistral (whose window, when declared, applies to all layers).
    {.name = "llama", .window = SlidingWindow::AllLayers},
    {.name = "qwen2", .rope_style = RopeStyle::Neox},
    {.name = "phi3", .rope_style = RopeStyle::Neox, .fused_qkv = true, .fused_gate_up = true,
     .window = SlidingWindow::AllLayers},
    {.name = "gemma", .rope_style = RopeStyle::Neox, .ffn = FfnKind::GeGlu, .scale_embedding = true},
    {.name = "gemma2", .rope_style = RopeStyle::Neox, .ffn = FfnKind::GeGlu, .scale_embedding = true,
     .post_norms = true, .window = SlidingWindow::EvenLayers},
    {.name = "starcoder2", .rope_style = RopeStyle::Neox, .norm = NormKind::Layer, .ffn = FfnKind::GeluMlp},
    {.name = "gpt2", .rope = false, .norm = NormKind::Layer, .ffn = FfnKind::GeluMlp, .fused_qkv = true,
     .position_embedding = true},
    // Encoders (embeddings, reranking): BGE / MiniLM / E5, and nomic-embed (rotary, SwiGLU).
    {.name = "bert", .rope = false, .norm = NormKind::Layer, .ffn = FfnKind::GeluMlp,
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

std::string supported_architectures() {
  std::string out;
  for (const auto& a : kArchs) {
    if (!out.empty()) out += ", ";
    out += a.name;
  }
  return out;
}

}  // namespace inkling::detail
