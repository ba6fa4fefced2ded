#include "model/encoder_weights.hpp"

#include <algorithm>
#include <string>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "model/arch.hpp"
#include "model/weights.hpp"

namespace inkling::detail {

EncoderWeights bind_encoder_weights(const GgufFile& f, const ArchTraits& arch, ModelConfig& c) {
  EncoderWeights w;
  const TensorView* embd = f.find_tensor("token_embd.weight");
  if (!embd) throw Error(ErrorCode::Format, f.name() + ": missing tensor 'token_embd.weight'");
  if (embd->shape[1] <= 0 || embd->shape[1] > (1 << 24))
    throw Error(ErrorCode::Format, f.name() + ": token_embd.weight has an absurd vocabulary size");
  c.n_vocab = static_cast<int>(embd->shape[1]);
  w.token_embd = bind_matrix(f, "token_embd.weight", c.n_embd, c.n_vocab);

  // Token types: a {n_embd, n_types} table of which llama.cpp adds row 0 to every token.
  if (const TensorView* types = f.find_tensor("token_types.weight"))
    w.token_types = bind_matrix(f, "token_types.weight", c.n_embd, std::max<std::int64_t>(1, types->shape[1]));
  if (w.token_types && w.token_types->type != DType::F32)
    throw Error(ErrorCode::Unsupported, f.name() + ": token_types.weight must be F32");
  if (arch.position_embedding) w.position_embd = bind_matrix(f, "position_embd.weight", c.n_embd, c.n_ctx_train);
  w.embd_norm = bind_vector(f, "token_embd_norm.weight", c.n_embd);
  w.embd_norm_b = bind_vector(f, "token_embd_norm.bias", c.n_embd);

  const std::int64_t q_dim = c.q_dim(), kv_dim = c.kv_dim();
  w.layers.resize(static_cast<std::size_t>(c.n_layer));
  for (int i = 0; i < c.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    EncoderLayer& l = w.layers[static_cast<std::size_t>(i)];
    if (arch.fused_qkv) {
      l.wqkv = bind_matrix(f, p + "attn_qkv.weight", c.n_embd, q_dim + 2 * kv_dim);
      l.bqkv = bind_vector(f, p + "attn_qkv.bias", q_dim + 2 * kv_dim, true);
    } else {
      l.wq = bind_matrix(f, p + "attn_q.weight", c.n_embd, q_dim);
      l.wk = bind_matrix(f, p + "attn_k.weight", c.n_embd, kv_dim);
      l.wv = bind_matrix(f, p + "attn_v.weight", c.n_embd, kv_dim);
      l.bq = bind_vector(f, p + "attn_q.bias", q_dim, true);
      l.bk = bind_vector(f, p + "attn_k.bias", kv_dim, true);
      l.bv = bind_vector(f, p + "attn_v.bias", kv_dim, true);
    }
    l.wo = bind_matrix(f, p + "attn_output.weight", q_dim, c.n_embd);
    l.bo = bind_vector(f, p + "attn_output.bias", c.n_embd, true);
    l.attn_out_norm = bind_vector(f, p + "attn_output_norm.weight", c.n_embd);
    l.attn_out_norm_b = bind_vector(f, p + "attn_output_norm.bias", c.n_embd);
    if (arch.ffn == FfnKind::Gated) l.w_gate = bind_matrix(f, p + "ffn_gate.weight", c.n_embd, c.n_ff);
    l.w_up = bind_matrix(f, p + "ffn_up.weight", c.n_embd, c.n_ff);
    l.b_up = bind_vector(f, p + "ffn_up.bias", c.n_ff, true);
    l.w_down = bind_matrix(f, p + "ffn_down.weight", c.n_ff, c.n_embd);
    l.b_down = bind_vector(f, p + "ffn_down.bias", c.n_embd, true);
    l.layer_out_norm = bind_vector(f, p + "layer_output_norm.weight", c.n_embd);
    l.layer_out_norm_b = bind_vector(f, p + "layer_output_norm.bias", c.n_embd);
  }

  // The classification head of BERT rerankers; both parts are optional in the file.
  w.cls = bind_matrix(f, "cls.weight", c.n_embd, c.n_embd, true);
  if (w.cls) w.cls_b = bind_vector(f, "cls.bias", c.n_embd);
  if (const TensorView* out = f.find_tensor("cls.output.weight")) {
    if (!w.cls) throw Error(ErrorCode::Format, f.name() + ": cls.output.weight without cls.weight");
    if (out->shape[1] <= 0 || out->shape[1] > c.n_embd)
      throw Error(ErrorCode::Format, f.name() + ": cls.output.weight has an absurd number of outputs");
    w.n_cls_out = static_cast<int>(out->shape[1]);
    w.cls_out = bind_matrix(f, "cls.output.weight", c.n_embd, w.n_cls_out);
    w.cls_out_b = bind_vector(f, "cls.output.bias", w.n_cls_out);
  } else if (w.cls) {
    w.n_cls_out = c.n_embd;
  }
  return w;
}

}  // namespace inkling::detail
