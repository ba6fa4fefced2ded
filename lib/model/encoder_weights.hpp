// The weights of a non-causal encoder (BERT, nomic-bert), bound by llama.cpp's tensor
// names and checked against the config. Post-norm layers: each block ends in a LayerNorm
// of (input + attention) and of (that + FFN), and the embeddings are normalised too.
#pragma once

#include <vector>

#include "inkling/model.hpp"
#include "inkling/tensor.hpp"

namespace inkling {
class GgufFile;
}

namespace inkling::detail {

struct ArchTraits;

// Optional tensors are nullptr when the file has none.
struct EncoderLayer {
  const TensorView* wq = nullptr;    // separate projections (bert) ...
  const TensorView* wk = nullptr;
  const TensorView* wv = nullptr;
  const TensorView* bq = nullptr;
  const TensorView* bk = nullptr;
  const TensorView* bv = nullptr;
  const TensorView* wqkv = nullptr;  // ... or fused rows Q, K, V (nomic-bert)
  const TensorView* bqkv = nullptr;
  const TensorView* wo = nullptr;
  const TensorView* bo = nullptr;
  const TensorView* attn_out_norm = nullptr;    // LayerNorm(x + attention)
  const TensorView* attn_out_norm_b = nullptr;
  const TensorView* w_gate = nullptr;  // SwiGLU only
  const TensorView* w_up = nullptr;
  const TensorView* b_up = nullptr;
  const TensorView* w_down = nullptr;
  const TensorView* b_down = nullptr;
  const TensorView* layer_out_norm = nullptr;   // LayerNorm(x + FFN)
  const TensorView* layer_out_norm_b = nullptr;
};

struct EncoderWeights {
  const TensorView* token_embd = nullptr;     // {n_embd, n_vocab}
  const TensorView* token_types = nullptr;    // {n_embd, n_types}; type 0 is added to every token
  const TensorView* position_embd = nullptr;  // {n_embd, n_ctx_train}, absolute positions (bert)
  const TensorView* embd_norm = nullptr;      // token_embd_norm
  const TensorView* embd_norm_b = nullptr;
  std::vector<EncoderLayer> layers;
  // Rerankers' classification head (llama.cpp's rank pooling): score = cls_out ·
  // tanh(cls · h_CLS + cls_b) + cls_out_b; cls_out may be absent (then the tanh
  // output is the result).
  const TensorView* cls = nullptr;      // {n_embd, n_embd}
  const TensorView* cls_b = nullptr;
  const TensorView* cls_out = nullptr;  // {n_embd, n_cls_out}
  const TensorView* cls_out_b = nullptr;
  int n_cls_out = 0;  // outputs of the head (0 without one)
};

// Binds every tensor (Error(Format) / Error(Unsupported) naming the tensor) and fills
// config.n_vocab; config.tied_output stays false (an encoder has no output head).
EncoderWeights bind_encoder_weights(const GgufFile& file, const ArchTraits& arch, ModelConfig& config);

}  // namespace inkling::detail
