// Encoder forward pass, in one team job (common/thread_team.hpp) like Model::forward: each step is
// a collective matmul or a team loop over tokens or (token, head) pairs.
#include "model/encoder.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "inkling/error.hpp"
#include "kernels/attention_tile.hpp"
#include "kernels/encoder_ops.hpp"
#include "model/encoder_attention.hpp"
#include "model/gelu_table.hpp"
#include "model/layers.hpp"
#include "model/model_impl.hpp"
#include "model/rope.hpp"

namespace inkling::detail {
namespace {

template <typename T>
void grow(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
}

const float* f32(const TensorView* t) { return t ? reinterpret_cast<const float*>(t->data) : nullptr; }

// Checks everything before any thread starts (no exception may cross an OpenMP region)
// and fills each token's sequence and position. Returns the longest sequence.
int validate(const ModelConfig& c, std::span<const TokenId> tokens, std::span<const int> starts,
             EncoderBuffers& b) {
  if (tokens.empty()) throw Error(ErrorCode::InvalidArgument, "encode: no tokens");
  if (starts.size() < 2 || starts.front() != 0 || starts.back() != static_cast<int>(tokens.size()))
    throw Error(ErrorCode::InvalidArgument, "encode: sequence starts do not cover the tokens");
  b.seq_of.resize(tokens.size());
  b.pos_of.resize(tokens.size());
  int longest = 0;
  for (std::size_t s = 0; s + 1 < starts.size(); ++s) {
    const int len = starts[s + 1] - starts[s];
    if (len <= 0)
      throw Error(ErrorCode::InvalidArgument, "encode: sequence " + std::to_string(s) + " is empty");
    if (len > c.n_ctx_train)
      throw Error(ErrorCode::ContextFull, "encode: sequence " + std::to_string(s) + " has " + std::to_string(len) +
                                              " tokens; the model's context is " + std::to_string(c.n_ctx_train));
    longest = std::max(longest, len);
    for (int i = 0; i < len; ++i) {
      const auto t = static_cast<std::size_t>(starts[s] + i);
      if (tokens[t] < 0 || tokens[t] >= c.n_vocab)
        throw Error(ErrorCode::InvalidArgument, "encode: token id " + std::to_string(tokens[t]) +
                                                    " is out of range [0, " + std::to_string(c.n_vocab) + ")");
      b.seq_of[t] = static_cast<int>(s);
      b.pos_of[t] = i;
    }
  }
  return longest;
}

}  // namespace

bool is_encoder(const Model& model) noexcept {
  const auto* arch = find_arch(model.config().architecture);
  return arch && arch->encoder;
}

namespace {

// One pass over packed sequences: the shapes, the weights and the buffers, and the steps
// every member of the team job runs in turn (each a team loop or a collective
// matmul, as Model::forward's blocks).
struct EncoderPass {
  const ModelConfig& c;
  const ArchTraits& arch;
  const EncoderWeights& w;
  kernels::Isa isa;
  std::span<const TokenId> tokens;
  std::span<const int> starts;
  EncoderBuffers& b;
  int n = static_cast<int>(tokens.size());
  int longest = 0;
  bool fused = arch.fused_qkv;
  int q_dim = c.q_dim(), kv_dim = c.kv_dim(), half_rot = c.n_rot / 2;
  int qkv_stride = fused ? q_dim + 2 * kv_dim : q_dim;  // row width of b.q
  int kv_stride = fused ? qkv_stride : kv_dim;         // between two tokens' K (or V) rows
  // With separate projections Q, K and V sit one after the other in b.q (all Q, all K,
  // all V); fused, each token's row is Q | K | V.
  float* q_base = nullptr;
  float* k_base = nullptr;
  float* v_base = nullptr;
  const GeluTable& gelu = gelu_table();
  // nomic-bert: one frequency set (base, scaling) as the decoders', no per-pair factors.
  RopeFreqs rope = make_rope_setup(c, arch, nullptr, nullptr, nullptr, c.n_ctx_train).sets[0];

  EncoderPass(const Model::Impl& m, std::span<const TokenId> tokens_in, std::span<const int> starts_in,
              EncoderBuffers& buffers)
      : c(m.config), arch(*m.arch), w(*m.encoder), isa(m.isa), tokens(tokens_in), starts(starts_in), b(buffers) {}

  static float* row(std::vector<float>& v, int t, int width) { return v.data() + static_cast<std::size_t>(t) * width; }

  void grow_buffers(int threads) {
    const auto un = static_cast<std::size_t>(n);
    grow(b.x, un * c.n_embd);
    grow(b.q, un * (q_dim + 2 * kv_dim));
    grow(b.att, un * q_dim);
    grow(b.o, un * c.n_embd);
    grow(b.up, un * c.n_ff);
    if (arch.ffn == FfnKind::Gated) grow(b.gate, un * c.n_ff);
    if (arch.rope) {
      grow(b.rope_cos, un * half_rot);
      grow(b.rope_sin, un * half_rot);
    }
    grow(b.scores, static_cast<std::size_t>(threads) * scratch_floats());
    q_base = b.q.data();
    k_base = fused ? q_base + q_dim : q_base + un * q_dim;
    v_base = fused ? q_base + q_dim + kv_dim : k_base + un * kv_dim;
  }

  // Each thread's attention scratch (encoder_attend_head's, for the longest sequence).
  std::size_t scratch_floats() const { return encoder_attention_scratch(longest, c.head_dim); }

  // x = LayerNorm(x + o + o_bias), the post-norm every block ends with.
  void add_norm(int t, const TensorView* o_bias, const TensorView* weight, const TensorView* bias) {
    kernels::add_norm(isa, row(b.x, t, c.n_embd), row(b.o, t, c.n_embd), f32(o_bias), f32(weight), f32(bias), c.norm_eps,
                      c.n_embd);
  }

  // Row `id` of an embedding table as floats (F16 rows by the vectorised conversion).
  void embedding_row(const TensorView& table, int id, float* out) const {
    if (table.type == DType::F16) kernels::f16_rows_to_f32(isa, table.row(id), 0, 1, c.n_embd, out);
    else kernels::dequantize_row(table.type, table.row(id), out, c.n_embd);
  }

  // Token + token type 0 + absolute position, LayerNorm; RoPE angles of each position.
  void embed(TeamMember& team) {
    team.for_static(n, [&](int t) {
      const int pos = b.pos_of[static_cast<std::size_t>(t)];
      float* e = row(b.x, t, c.n_embd);
      embedding_row(*w.token_embd, tokens[static_cast<std::size_t>(t)], e);
      float* p = nullptr;
      if (w.position_embd) {
        p = row(b.o, t, c.n_embd);
        embedding_row(*w.position_embd, pos, p);
      }
      kernels::add_norm(isa, e, p, f32(w.token_types), f32(w.embd_norm), f32(w.embd_norm_b), c.norm_eps, c.n_embd);
      if (arch.rope)
        rope_angles(pos, rope, /*unit=*/false, row(b.rope_cos, t, half_rot), row(b.rope_sin, t, half_rot));
    });
  }

  // x = LayerNorm(x + attention(x)): every query sees all keys of its own sequence.
  void attention(const EncoderLayer& l, TeamMember& team, float* scratch) {
    if (fused) {
      kernels::matmul(isa, *l.wqkv, b.x.data(), n, q_base, b.ws, team);
    } else {
      kernels::matmul(isa, *l.wq, b.x.data(), n, q_base, b.ws, team);
      kernels::matmul(isa, *l.wk, b.x.data(), n, k_base, b.ws, team);
      kernels::matmul(isa, *l.wv, b.x.data(), n, v_base, b.ws, team);
    }
    team.for_static(n, [&](int t) {
      float* q = q_base + static_cast<std::size_t>(t) * qkv_stride;
      float* k = k_base + static_cast<std::size_t>(t) * kv_stride;
      if (l.bqkv) add_in_place(q, f32(l.bqkv), q_dim + 2 * kv_dim);
      if (l.bq) add_in_place(q, f32(l.bq), q_dim);
      if (l.bk) add_in_place(k, f32(l.bk), kv_dim);
      if (l.bv) add_in_place(v_base + static_cast<std::size_t>(t) * kv_stride, f32(l.bv), kv_dim);
      if (arch.rope) {
        const float* cs = row(b.rope_cos, t, half_rot);
        const float* sn = row(b.rope_sin, t, half_rot);
        rope_apply(q, c.n_head, c.head_dim, c.n_rot, arch.rope_style, cs, sn);
        rope_apply(k, c.n_head_kv, c.head_dim, c.n_rot, arch.rope_style, cs, sn);
      }
    });
    const int hd = c.head_dim, group = c.n_head / c.n_head_kv;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    const int n_seq = static_cast<int>(starts.size()) - 1;
    team.for_dynamic(static_cast<std::int64_t>(n_seq) * c.n_head, [&](std::int64_t item) {
      const auto s = static_cast<std::size_t>(item / c.n_head);
      const int h = static_cast<int>(item % c.n_head), first = starts[s];
      const std::size_t key_off = static_cast<std::size_t>(first) * kv_stride + static_cast<std::size_t>(h / group) * hd;
      encoder_attend_head(isa, q_base + static_cast<std::size_t>(first) * qkv_stride + h * hd, qkv_stride,
                          k_base + key_off, v_base + key_off, kv_stride, starts[s + 1] - first, hd, scale, scratch,
                          row(b.att, first, q_dim) + h * hd, q_dim);
    });
    kernels::matmul(isa, *l.wo, b.att.data(), n, b.o.data(), b.ws, team);
    team.for_static(n, [&](int t) { add_norm(t, l.bo, l.attn_out_norm, l.attn_out_norm_b); });
  }

  // x = LayerNorm(x + down(act(up x)))  or, gated,  LayerNorm(x + down(act(gate x) * up x)).
  void ffn(const EncoderLayer& l, TeamMember& team) {
    const int n_ff = c.n_ff;
    kernels::matmul(isa, *l.w_up, b.x.data(), n, b.up.data(), b.ws, team);
    if (l.w_gate) kernels::matmul(isa, *l.w_gate, b.x.data(), n, b.gate.data(), b.ws, team);
    const bool gated = arch.ffn == FfnKind::Gated, gelu_act = arch.act == Activation::Gelu;
    team.for_static(n, [&](int t) {
      float* u = row(b.up, t, n_ff);
      if (!gated && gelu_act) return kernels::bias_gelu(isa, u, f32(l.b_up), gelu.data(), n_ff);
      if (l.b_up) add_in_place(u, f32(l.b_up), n_ff);
      if (gated && gelu_act) {
        gelu_mul(row(b.gate, t, n_ff), u, u, n_ff);
      } else if (gated) {
        silu_mul(row(b.gate, t, n_ff), u, u, n_ff);
      } else {
        for (int i = 0; i < n_ff; ++i) u[i] = u[i] / (1.0f + std::exp(-u[i]));
      }
    });
    kernels::matmul(isa, *l.w_down, b.up.data(), n, b.o.data(), b.ws, team);
    team.for_static(n, [&](int t) { add_norm(t, l.b_down, l.layer_out_norm, l.layer_out_norm_b); });
  }
};

}  // namespace

std::span<const float> encode(const Model& model, std::span<const TokenId> tokens, std::span<const int> starts,
                              EncoderBuffers& b) {
  const Model::Impl& m = model.impl();
  if (!m.encoder)
    throw Error(ErrorCode::Unsupported, "encode: " + m.config.architecture + " is not an encoder architecture");
  EncoderPass pass(m, tokens, starts, b);
  pass.longest = validate(m.config, tokens, starts, b);
  const int threads = std::max(1, m.threads);
  pass.grow_buffers(threads);

  b.team.run(threads, [&](TeamMember& team) {
    float* scratch = b.scores.data() + static_cast<std::size_t>(team.id()) * pass.scratch_floats();
    pass.embed(team);
    for (const EncoderLayer& l : pass.w.layers) {
      pass.attention(l, team, scratch);
      pass.ffn(l, team);
    }
  });
  return {b.x.data(), tokens.size() * static_cast<std::size_t>(m.config.n_embd)};
}

}  // namespace inkling::detail
