#include "model/weights.hpp"

#include <cmath>
#include <set>
#include <string>
#include <string_view>

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
  const GgufFile& file() const noexcept { return f_; }

  // Error(Unsupported) naming the first tensor of the file that nothing bound.
  void check_all_used() const {
    for (const auto& t : f_.tensors())
      if (!used_.count(t.name))
        throw Error(ErrorCode::Unsupported, f_.name() + ": tensor '" + std::string(t.name) +
                                                "' is not used by this architecture; refusing to ignore it");
  }

  // The slices of a 3-D expert tensor {k, m, n_expert}: one {k, m} view per expert.
  std::vector<TensorView> experts(const std::string& name, std::int64_t k, std::int64_t m, int n_expert) {
    const TensorView* t = f_.find_tensor(name);
    if (!t) fail(ErrorCode::Format, "missing tensor '" + name + "'");
    used_.insert(t->name);
    if (t->shape[0] != k || t->shape[1] != m || t->shape[2] != n_expert || t->shape[3] != 1)
      fail(ErrorCode::Format, "tensor '" + name + "' has shape " + shape_str(*t) + ", expected {" +
                                  std::to_string(k) + ", " + std::to_string(m) + ", " + std::to_string(n_expert) +
                                  "} (expert_count " + std::to_string(n_expert) + ")");
    if (!kernels::is_supported(t->type))
      fail(ErrorCode::Unsupported, "tensor '" + name + "' has type " + std::string(dtype_name(t->type)) +
                                       ", which this version cannot compute with");
    std::vector<TensorView> out(static_cast<std::size_t>(n_expert), *t);
    const std::size_t bytes = static_cast<std::size_t>(m) * t->row_bytes();
    for (int e = 0; e < n_expert; ++e) {
      TensorView& v = out[static_cast<std::size_t>(e)];
      v.n_dims = 2;
      v.shape = {k, m, 1, 1};
      v.data = t->data + static_cast<std::size_t>(e) * bytes;
      v.bytes = bytes;
    }
    return out;
  }

  // A weight matrix with rows of `k` elements and `m` rows, in a type we can multiply.
  const TensorView* matrix(const std::string& name, std::int64_t k, std::int64_t m,
                           bool optional = false) {
    const TensorView* t = f_.find_tensor(name);
    if (!t) {
      if (optional) return nullptr;
      fail(ErrorCode::Format, "missing tensor '" + name + "'");
    }
    used_.insert(t->name);
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
    used_.insert(t->name);
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
  std::set<std::string_view> used_;  // names view the file's mapping
};

// Per-pair RoPE divisors must be positive (finite is checked by Binder::vector).
const TensorView* rope_factors(Binder& b, const GgufFile& file, const char* name, int n) {
  const TensorView* t = b.vector(name, n, /*optional=*/true);
  if (!t) return nullptr;
  const auto* f = reinterpret_cast<const float*>(t->data);
  for (int i = 0; i < n; ++i)
    if (!(f[i] > 0.0f))
      throw Error(ErrorCode::Format, file.name() + ": " + name + "[" + std::to_string(i) +
                                         "] is not a positive frequency factor");
  return t;
}

void bind_attention(Binder& b, const ArchTraits& arch, const ModelConfig& c, const std::string& p, LayerWeights& l) {
  const std::int64_t q_dim = c.q_dim(), kv_dim = c.kv_dim();
  const bool layer_norm = arch.norm == NormKind::Layer;
  if (arch.pre_norms) {
    l.attn_norm = b.vector(p + "attn_norm.weight", c.n_embd);
    if (layer_norm) l.attn_norm_b = b.vector(p + "attn_norm.bias", c.n_embd);
  }
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
  if (arch.qk_norm != QkNorm::None) {
    const bool full = arch.qk_norm == QkNorm::Full;
    l.attn_q_norm = b.vector(p + "attn_q_norm.weight", full ? q_dim : c.head_dim);
    l.attn_k_norm = b.vector(p + "attn_k_norm.weight", full ? kv_dim : c.head_dim);
  }
  l.wo = b.matrix(p + "attn_output.weight", q_dim, c.n_embd);
  l.bo = b.vector(p + "attn_output.bias", c.n_embd, true);
  if (arch.post_norms) l.post_attn_norm = b.vector(p + "post_attention_norm.weight", c.n_embd);
}

void bind_ffn(Binder& b, const ArchTraits& arch, const ModelConfig& c, const std::string& p, LayerWeights& l) {
  if (arch.pre_norms) {
    l.ffn_norm = b.vector(p + "ffn_norm.weight", c.n_embd);
    if (arch.norm == NormKind::Layer) l.ffn_norm_b = b.vector(p + "ffn_norm.bias", c.n_embd);
  }
  if (arch.post_norms) l.post_ffn_norm = b.vector(p + "post_ffw_norm.weight", c.n_embd);
  if (c.n_expert > 0) {
    l.ffn_gate_inp = b.matrix(p + "ffn_gate_inp.weight", c.n_embd, c.n_expert);
    l.gate_exps = b.experts(p + "ffn_gate_exps.weight", c.n_embd, c.n_ff_expert, c.n_expert);
    l.up_exps = b.experts(p + "ffn_up_exps.weight", c.n_embd, c.n_ff_expert, c.n_expert);
    l.down_exps = b.experts(p + "ffn_down_exps.weight", c.n_ff_expert, c.n_embd, c.n_expert);
    l.exps_tensors[0] = b.file().find_tensor(p + "ffn_gate_exps.weight");
    l.exps_tensors[1] = b.file().find_tensor(p + "ffn_up_exps.weight");
    l.exps_tensors[2] = b.file().find_tensor(p + "ffn_down_exps.weight");
    return;
  }
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

}  // namespace

Weights bind_weights(const GgufFile& file, const ArchTraits& arch, ModelConfig& c) {
  Binder b(file);
  Weights w;
  const TensorView* embd = file.find_tensor("token_embd.weight");
  if (!embd) throw Error(ErrorCode::Format, file.name() + ": missing tensor 'token_embd.weight'");
  if (embd->shape[1] <= 0 || embd->shape[1] > (1 << 24))
    throw Error(ErrorCode::Format, file.name() + ": token_embd.weight has an absurd vocabulary size");
  c.n_vocab = static_cast<int>(embd->shape[1]);
  w.token_embd = b.matrix("token_embd.weight", c.n_embd, c.n_vocab);
  if (arch.position_embedding) w.position_embd = b.matrix("position_embd.weight", c.n_embd, c.n_ctx_train);
  if (arch.rope) {
    w.rope_freqs = rope_factors(b, file, "rope_freqs.weight", c.n_rot / 2);
    if (arch.longrope) {
      w.rope_factors_long = rope_factors(b, file, "rope_factors_long.weight", c.n_rot / 2);
      w.rope_factors_short = rope_factors(b, file, "rope_factors_short.weight", c.n_rot / 2);
      if ((w.rope_factors_long == nullptr) != (w.rope_factors_short == nullptr))
        throw Error(ErrorCode::Format, file.name() + ": LongRoPE needs both rope_factors_long and rope_factors_short");
      if (w.rope_factors_long && w.rope_freqs)
        throw Error(ErrorCode::Format, file.name() + ": both rope_freqs and LongRoPE factors are present");
    }
  }
  w.output_norm = b.vector("output_norm.weight", c.n_embd);
  if (arch.norm == NormKind::Layer) w.output_norm_b = b.vector("output_norm.bias", c.n_embd);
  w.output = b.matrix("output.weight", c.n_embd, c.n_vocab, /*optional=*/true);
  c.tied_output = w.output == nullptr;
  if (c.tied_output) w.output = w.token_embd;

  w.layers.resize(static_cast<std::size_t>(c.n_layer));
  for (int i = 0; i < c.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    bind_attention(b, arch, c, p, w.layers[static_cast<std::size_t>(i)]);
    bind_ffn(b, arch, c, p, w.layers[static_cast<std::size_t>(i)]);
  }
  b.check_all_used();
  return w;
}

const TensorView* bind_matrix(const GgufFile& file, const std::string& name, std::int64_t k,
                              std::int64_t m, bool optional) {
  return Binder(file).matrix(name, k, m, optional);
}

const TensorView* bind_vector(const GgufFile& file, const std::string& name, std::int64_t n,
                              bool optional) {
  return Binder(file).vector(name, n, optional);
}

}  // namespace inkling::detail
