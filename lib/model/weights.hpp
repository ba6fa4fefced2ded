// The model's weight tensors, bound by name and checked against the config.
#pragma once

#include <vector>

#include "inkling/model.hpp"
#include "inkling/tensor.hpp"

namespace inkling {
class GgufFile;
}

namespace inkling::detail {

struct LayerWeights {
  const TensorView* attn_norm = nullptr;
  const TensorView* wq = nullptr;
  const TensorView* wk = nullptr;
  const TensorView* wv = nullptr;
  const TensorView* wo = nullptr;
  const TensorView* bq = nullptr;  // optional biases
  const TensorView* bk = nullptr;
  const TensorView* bv = nullptr;
  const TensorView* bo = nullptr;
  const TensorView* ffn_norm = nullptr;
  const TensorView* w_gate = nullptr;
  const TensorView* w_up = nullptr;
  const TensorView* w_down = nullptr;
};

struct Weights {
  const TensorView* token_embd = nullptr;
  const TensorView* output_norm = nullptr;
  const TensorView* output = nullptr;  // token_embd when the output head is tied
  std::vector<LayerWeights> layers;
};

// Binds every tensor, checks shapes and types (Error(Format) / Error(Unsupported)
// naming the tensor), checks norm weights for NaN/Inf, and fills config.n_vocab and
// config.tied_output.
Weights bind_weights(const GgufFile& file, ModelConfig& config);

}  // namespace inkling::detail
