// The feed-forward block of one layer: norm, (gate and) up projections, activation, down
// projection, residual.
#include <cstring>

#include "model/forward_pass.hpp"
#include "model/layers.hpp"

namespace inkling::detail {
namespace {

// Token t's activation into `out` (the input of the down projection): act(gate) * up for
// a gated FFN, act(up + bias) for a plain MLP. `gate` and `up` may alias `out`.
void activate(const ArchTraits& arch, const LayerWeights& l, const float* gate, const float* up, float* out,
              int n_ff) {
  if (arch.ffn == FfnKind::Mlp) {
    if (out != up) std::memcpy(out, up, sizeof(float) * static_cast<std::size_t>(n_ff));
    if (l.b_up) add_in_place(out, f32(l.b_up), n_ff);
    if (arch.act == Activation::Gelu)
      gelu_in_place(out, n_ff);
    else
      silu_in_place(out, n_ff);
    return;
  }
  if (arch.act == Activation::Gelu)
    gelu_mul(gate, up, out, n_ff);
  else
    silu_mul(gate, up, out, n_ff);
}

// The dense FFN of all tokens: ws.o = down(act(gate · in) * (up · in)).
void dense_ffn(const Pass& p, TeamMember& team, const LayerWeights& l, const float* in) {
  ForwardWorkspace& b = p.ws;
  const int n_ff = p.c.n_ff;
  // Fused gate/up (Phi-3): one matmul into ws.gate, rows gate then up per token.
  if (p.arch.fused_gate_up) {
    kernels::matmul(p.isa, *l.w_up, in, p.n, b.gate.data(), b.kernel_ws, team);
  } else {
    if (l.w_gate) kernels::matmul(p.isa, *l.w_gate, in, p.n, b.gate.data(), b.kernel_ws, team);
    kernels::matmul(p.isa, *l.w_up, in, p.n, b.up.data(), b.kernel_ws, team);
  }

  team.for_static(p.n, [&](int t) {
    float* out = Pass::row(b.up, t, n_ff);
    if (p.arch.fused_gate_up) {
      const float* gu = Pass::row(b.gate, t, 2 * n_ff);
      activate(p.arch, l, gu, gu + n_ff, out, n_ff);
    } else {
      activate(p.arch, l, Pass::row(b.gate, t, n_ff), out, out, n_ff);
    }
  });

  kernels::matmul(p.isa, *l.w_down, b.up.data(), p.n, b.o.data(), b.kernel_ws, team);
}

}  // namespace

void activate_gated(const ArchTraits& arch, const float* gate, const float* up, float* out, int n_ff) {
  if (arch.act == Activation::Gelu)
    gelu_mul(gate, up, out, n_ff);
  else
    silu_mul(gate, up, out, n_ff);
}

void ffn_block(const Pass& p, TeamMember& team, int il) {
  const ModelConfig& c = p.c;
  const LayerWeights& l = p.w.layers[static_cast<std::size_t>(il)];
  const float* in = p.block_input(team, l.ffn_norm, l.ffn_norm_b);

  if (c.n_expert > 0) {
    moe_ffn(p, team, il, in);
  } else {
    dense_ffn(p, team, l, in);
  }

  team.for_static(p.n, [&](int t) {
    p.add_to_residual(t, l.b_down, l.post_ffn_norm);
  });
}

}  // namespace inkling::detail
