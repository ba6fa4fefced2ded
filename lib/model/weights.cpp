#include "model/weights.hpp"

#include <cmath>
#include <string>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "kernels/kernels.hpp"
#include "model/arch.hpp"

namespace inkling::detail {
namespace {

std::string shape_str(const TensorView& t) {
  std::string s = "{";
  for (int i = 0; i < std::max(t.n_dims, 1); ++i) {
    if (i) s += ", ";
    s += std::to_string(t.shape[i]);
  }
  return s + "}";
}

class Binder {
 public:
  Binder(const GgufFile& f) : f_(f) {}

  // A weight matrix with rows of `k` elements and `m` rows, in a type we can multiply.
  const TensorView* matrix(const std::string& name, std::int64_t k, std::int64_t m,
                           bool optional = false) {
    const TensorView* t = f_.find_tensor(name);
    if (!t) {
      if (optional) return nullptr;
      fail(ErrorCode::Format, "missing tensor '" + name + "'");
    }
    if (t->shape[0] != k || t->shape[1] != m || t->shape[2] != 1 || t->shape[3] != 1)
      fail(ErrorCode::Format, "tensor '" + name + "' has shape " + shape_str(*t) +
                                  ", expected {" + std::to_string(k) + ", " +
                                  std::to_string(m) + "}");
    if (!kernels::is_supported(t->type))
      fail(ErrorCode::Unsupported, "tensor '" + name + "' has type " +
                                       std::string(dtype_name(t->type)) +
                                       ", which this version cannot compute with");
    return t;
  }

  // A 1-D F32 vector (norm weights, biases); its values must be finite.
  const TensorView* vector(const std::string& name, std::int64_t n, bool optional = false) {
    const TensorView* t = f_.find_tensor(name);
    if (!t) {
      if (optional) return nullptr;
      fail(ErrorCode::Format, "missing tensor '" + name + "'");
    }
    if (t->elements() != n || t->shape[0] != n)
      fail(ErrorCode::Format, "tensor '" + name + "' has shape " + shape_str(*t) +
                                  ", expected {" + std::to_string(n) + "}");
    if (t->type != DType::F32)
      fail(ErrorCode::Unsupported, "tensor '" + name + "' has type " +
                                       std::string(dtype_name(t->type)) + ", expected F32");
    const auto* v = reinterpret_cast<const float*>(t->data);
    for (std::int64_t i = 0; i < n; ++i)
      if (!std::isfinite(v[i]))
        fail(ErrorCode::Format, "tensor '" + name + "' holds a non-finite value at index " +
                                    std::to_string(i));
    return t;
  }

 private:
  [[noreturn]] void fail(ErrorCode code, const std::string& what) {
    throw Error(code, f_.name() + ": " + what);
  }
  const GgufFile& f_;
};

}  // namespace

Weights bind_weights(const GgufFile& file, const ArchTraits& arch, ModelConfig& c) {
  Binder b(file);
  Weights w;
  const bool layer_norm = arch.norm == NormKind::Layer;

  const TensorView* embd = file.find_tensor("token_embd.weight");
  if (!embd) throw Error(ErrorCode::Format, file.name() + ": missing tensor 'token_embd.weight'");
  if (embd->shape[1] <= 0 || embd->shape[1] > (1 << 24))
    throw Error(ErrorCode::Format, file.name() + ": token_embd.weight has an absurd vocabulary size");
  c.n_vocab = static_cast<int>(embd->shape[1]);
  w.token_embd = b.matrix("token_embd.weight", c.n_embd, c.n_vocab);
  if (arch.position_embedding) w.position_embd = b.matrix("position_embd.weight", c.n_embd, c.n_ctx_train);
  // Phi-3 LongRoPE factors change every rotation; refuse rather than compute wrongly.
  for (const char* name : {"rope_factors_long.weight", "rope_factors_short.weight"})
    if (file.find_tensor(name))
      throw Error(ErrorCode::Unsupported, file.name() + ": tensor '" + name + "' (LongRoPE scaling) is not supported");
  if (arch.rope) {
    w.rope_freqs = b.vector("rope_freqs.weight", c.n_rot / 2, /*optional=*/true);
    if (w.rope_freqs) {
      const auto* f = reinterpret_cast<const float*>(w.rope_freqs->data);
      for (int i = 0; i < c.n_rot / 2; ++i)
        if (!(f[i] > 0.0f))
          throw Error(ErrorCode::Format, file.name() + ": rope_freqs.weight[" + std::to_string(i) +
                                             "] is not a positive frequency factor");
    }
  }
  w.output_norm = b.vector("output_norm.weight", c.n_embd);
  if (layer_norm) w.output_norm_b = b.vector("output_norm.bias", c.n_embd);
  w.output = b.matrix("output.weight", c.n_embd, c.n_vocab, /*optional=*/true);
  c.tied_output = w.output == nullptr;
  if (c.tied_output) w.output = w.token_embd;

  const std::int64_t q_dim = c.q_dim(), kv_dim = c.kv_dim();
  w.layers.resize(static_cast<std::size_t>(c.n_layer));
  for (int i = 0; i < c.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights& l = w.layers[static_cast<std::size_t>(i)];
    l.attn_norm = b.vector(p + "attn_norm.weight", c.n_embd);
    if (layer_norm) l.attn_norm_b = b.vector(p + "attn_norm.bias", c.n_embd);
    if (arch.fused_qkv) {
      l.wqkv = b.matrix(p + "attn_qkv.weight", c.n_embd, q_dim + 2 * kv_dim);
      l.bqkv = b.vector(p + "attn_qkv.bias", q_dim + 2 * kv_dim, true);
    } else {
      l.wq = b.matrix(p + "attn_q.weight", c.n_embd, q_dim);
      l.wk = b.matrix(p + "attn_k.weight", c.n_embd, kv_dim);
      l.wv = b.matrix(p + "attn_v.weight", c.n_embd, kv_dim);
      l.bq = b.vector(p + "attn_q.bias", q_dim, true);
      l.bk = b.vector(p + "attn_k.bias", kv_dim, true);
      l.bv = b.vector(p + "attn_v.bias", kv_dim, true);
    }
    l.wo = b.matrix(p + "attn_output.weight", q_dim, c.n_embd);
    l.bo = b.vector(p + "attn_output.bias", c.n_embd, true);
    if (arch.post_norms) {
      l.post_attn_norm = b.vector(p + "post_attention_norm.weight", c.n_embd);
      l.post_ffn_norm = b.vector(p + "post_ffw_norm.weight", c.n_embd);
    }
    l.ffn_norm = b.vector(p + "ffn_norm.weight", c.n_embd);
    if (layer_norm) l.ffn_norm_b = b.vector(p + "ffn_norm.bias", c.n_embd);
    if (arch.fused_gate_up) {
      l.w_up = b.matrix(p + "ffn_up.weight", c.n_embd, 2 * static_cast<std::int64_t>(c.n_ff));
    } else {
      if (arch.ffn == FfnKind::Gated) l.w_gate = b.matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff);
      l.w_up = b.matrix(p + "ffn_up.weight", c.n_embd, c.n_ff);
      l.b_up = b.vector(p + "ffn_up.bias", c.n_ff, true);
    }
    l.w_down = b.matrix(p + "ffn_down.weight", c.n_ff, c.n_embd);
    l.b_down = b.vector(p + "ffn_down.bias", c.n_embd, true);
  }
  return w;
}

}  // namespace inkling::detail
