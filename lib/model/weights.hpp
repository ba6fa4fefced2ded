// The model's weight tensors, bound by name and checked against the config.
#pragma once

#include <string>
#include <vector>

#include "inkling/model.hpp"
#include "inkling/tensor.hpp"
#include "kernels/kernels.hpp"

namespace inkling {
class GgufFile;
}

namespace inkling::detail {

// Optional tensors are nullptr when the architecture (or the file) has none.
struct LayerWeights {
  const TensorView* attn_norm = nullptr;
  const TensorView* attn_norm_b = nullptr;  // LayerNorm bias
  const TensorView* wqkv = nullptr;         // fused Q/K/V (then wq/wk/wv are nullptr)
  const TensorView* bqkv = nullptr;
  const TensorView* wq = nullptr;
  const TensorView* wk = nullptr;
  const TensorView* wv = nullptr;
  const TensorView* wo = nullptr;
  const TensorView* bq = nullptr;  // optional biases
  const TensorView* bk = nullptr;
  const TensorView* bv = nullptr;
  const TensorView* bo = nullptr;
  const TensorView* attn_q_norm = nullptr;  // QK-norm weights: {head_dim} per head, or {q_dim}/{kv_dim}
  const TensorView* attn_k_norm = nullptr;
  const TensorView* post_attn_norm = nullptr;  // Gemma 2
  const TensorView* ffn_norm = nullptr;
  const TensorView* ffn_norm_b = nullptr;
  const TensorView* w_gate = nullptr;  // nullptr for a plain MLP or a fused gate/up
  const TensorView* w_up = nullptr;    // fused: 2 * n_ff rows, gate first
  const TensorView* w_down = nullptr;
  const TensorView* b_up = nullptr;
  const TensorView* b_down = nullptr;
  const TensorView* post_ffn_norm = nullptr;  // Gemma 2
  // Mixture of experts: the router {n_embd, n_expert} and one 2-D view per expert into
  // the file's 3-D tensors (views, nothing copied), and those 3-D tensors themselves
  // (gate, up, down: the file's entries, whose layout records a repacking).
  const TensorView* ffn_gate_inp = nullptr;
  std::vector<TensorView> gate_exps, up_exps, down_exps;
  const TensorView* exps_tensors[3] = {nullptr, nullptr, nullptr};
};

struct Weights {
  const TensorView* token_embd = nullptr;
  const TensorView* position_embd = nullptr;  // GPT-2
  const TensorView* rope_freqs = nullptr;     // Llama 3: per-pair RoPE frequency divisors
  const TensorView* rope_factors_long = nullptr;   // Phi-3 LongRoPE divisors, long contexts
  const TensorView* rope_factors_short = nullptr;  // ... and short ones
  const TensorView* output_norm = nullptr;
  const TensorView* output_norm_b = nullptr;
  const TensorView* output = nullptr;  // token_embd when the output head is tied
  std::vector<LayerWeights> layers;
};

// Binds every tensor, checks shapes and types (Error(Format) / Error(Unsupported)
// naming the tensor), checks norm weights for NaN/Inf, and fills config.n_vocab and
// config.tied_output. A tensor in the file that the architecture does not use is
// Error(Unsupported) naming it: ignoring it could mean computing a different model.
struct ArchTraits;
Weights bind_weights(const GgufFile& file, const ArchTraits& arch, ModelConfig& config);
// Repacks the matrices whose type `isa`'s kernels read faster in another layout, in
// place (repack.cpp; the memory trade-off with mmap is described there). Expert views
// are repacked one expert at a time and take their tensor's new layout.
void repack_weights(Weights& w, kernels::Isa isa);

// The same checks for binders of other layouts (model/encoder_weights.cpp): a matrix of
// m rows of k elements in a type we can multiply; a finite F32 vector of n elements.
const TensorView* bind_matrix(const GgufFile& file, const std::string& name, std::int64_t k,
                              std::int64_t m, bool optional = false);
const TensorView* bind_vector(const GgufFile& file, const std::string& name, std::int64_t n,
                              bool optional = false);

}  // namespace inkling::detail
