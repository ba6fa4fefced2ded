// The mixture-of-experts FFN (Mixtral, Qwen3-MoE), as llama.cpp's build_moe_ffn computes
// it: router logits, softmax, the top-k experts, their weights renormalised to sum 1,
// output Σ_k w_k · down_k(act(gate_k · h) * (up_k · h)), summed in the order of selection.
// Tokens are grouped by expert so each expert runs as one matmul over its rows, and an
// expert no token chose is never read.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/forward_pass.hpp"
#include "model/layers.hpp"

namespace inkling::detail {
namespace {

// Softmax over token t's router logits, then its `used` most probable experts (ties: the
// lower index, as a stable descending sort) and their renormalised weights.
void route(const Pass& p, int t) {
  const ModelConfig& c = p.c;
  ForwardWorkspace& b = p.ws;
  float* logits = Pass::row(b.router, t, c.n_expert);
  const float mx = *std::max_element(logits, logits + c.n_expert);
  double sum = 0.0;
  for (int e = 0; e < c.n_expert; ++e) {
    logits[e] = std::exp(logits[e] - mx);
    sum += logits[e];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int e = 0; e < c.n_expert; ++e) logits[e] *= inv;
  int* sel = b.sel.data() + static_cast<std::size_t>(t) * c.n_expert_used;
  float* w = Pass::row(b.sel_w, t, c.n_expert_used);
  float total = 0.0f;
  for (int k = 0; k < c.n_expert_used; ++k) {
    int best = -1;
    for (int e = 0; e < c.n_expert; ++e) {
      if (std::find(sel, sel + k, e) != sel + k) continue;
      if (best < 0 || logits[e] > logits[best]) best = e;
    }
    sel[k] = best;
    w[k] = logits[best];
    total += w[k];
  }
  if (p.arch.moe_norm_weights)
    for (int k = 0; k < c.n_expert_used; ++k) w[k] /= total;
}

// Counting sort of the (token, slot) pairs by expert, rows in token order per expert.
void group_by_expert(const Pass& p) {
  const ModelConfig& c = p.c;
  ForwardWorkspace& b = p.ws;
  const int slots = p.n * c.n_expert_used;
  std::fill(b.expert_begin.begin(), b.expert_begin.begin() + c.n_expert + 1, 0);
  for (int s = 0; s < slots; ++s) ++b.expert_begin[static_cast<std::size_t>(b.sel[static_cast<std::size_t>(s)]) + 1];
  for (int e = 0; e < c.n_expert; ++e) b.expert_begin[static_cast<std::size_t>(e) + 1] += b.expert_begin[static_cast<std::size_t>(e)];
  for (int s = 0; s < slots; ++s) {
    int& next = b.expert_begin[static_cast<std::size_t>(b.sel[static_cast<std::size_t>(s)])];
    b.slot_row[static_cast<std::size_t>(s)] = next;
    b.row_token[static_cast<std::size_t>(next)] = s / c.n_expert_used;
    ++next;
  }
  // Each begin now holds the next expert's begin: shift back.
  for (int e = c.n_expert; e > 0; --e) b.expert_begin[static_cast<std::size_t>(e)] = b.expert_begin[static_cast<std::size_t>(e) - 1];
  b.expert_begin[0] = 0;
}

// The products of the experts some token chose: gate and up over the expert's rows of
// xg, then (after them) down over its rows of eu.
void list_products(const Pass& p, const LayerWeights& l) {
  const ModelConfig& c = p.c;
  ForwardWorkspace& b = p.ws;
  const int n_embd = c.n_embd, n_ff = c.n_ff_expert;
  int active = 0;
  for (int e = 0; e < c.n_expert; ++e) active += b.expert_begin[static_cast<std::size_t>(e) + 1] > b.expert_begin[static_cast<std::size_t>(e)];
  b.n_active = active;
  kernels::GroupProduct* gate_up = b.products.data();
  kernels::GroupProduct* down = gate_up + 2 * active;
  for (int e = 0; e < c.n_expert; ++e) {
    const int r0 = b.expert_begin[static_cast<std::size_t>(e)], count = b.expert_begin[static_cast<std::size_t>(e) + 1] - r0;
    if (count == 0) continue;
    const auto ue = static_cast<std::size_t>(e);
    *gate_up++ = {&l.gate_exps[ue], Pass::row(b.xg, r0, n_embd), count, Pass::row(b.eg, r0, n_ff)};
    *gate_up++ = {&l.up_exps[ue], Pass::row(b.xg, r0, n_embd), count, Pass::row(b.eu, r0, n_ff)};
    *down++ = {&l.down_exps[ue], Pass::row(b.eu, r0, n_ff), count, Pass::row(b.ed, r0, n_embd)};
  }
}

}  // namespace

void grow_moe(const Pass& p) {
  const ModelConfig& c = p.c;
  ForwardWorkspace& b = p.ws;
  const auto n = static_cast<std::size_t>(p.n), used = static_cast<std::size_t>(c.n_expert_used);
  ForwardWorkspace::grow(b.router, n * static_cast<std::size_t>(c.n_expert));
  ForwardWorkspace::grow(b.sel, n * used);
  ForwardWorkspace::grow(b.sel_w, n * used);
  ForwardWorkspace::grow(b.expert_begin, static_cast<std::size_t>(c.n_expert) + 1);
  ForwardWorkspace::grow(b.row_token, n * used);
  ForwardWorkspace::grow(b.slot_row, n * used);
  ForwardWorkspace::grow(b.xg, n * used * static_cast<std::size_t>(c.n_embd));
  ForwardWorkspace::grow(b.eg, n * used * static_cast<std::size_t>(c.n_ff_expert));
  ForwardWorkspace::grow(b.eu, n * used * static_cast<std::size_t>(c.n_ff_expert));
  ForwardWorkspace::grow(b.ed, n * used * static_cast<std::size_t>(c.n_embd));
  ForwardWorkspace::grow(b.products, 3 * static_cast<std::size_t>(c.n_expert));
}

void moe_ffn(const Pass& p, TeamMember& team, int il, const float* in) {
  const ModelConfig& c = p.c;
  const LayerWeights& l = p.w.layers[static_cast<std::size_t>(il)];
  ForwardWorkspace& b = p.ws;
  const int n_embd = c.n_embd, n_ff = c.n_ff_expert, used = c.n_expert_used;

  kernels::matmul(p.isa, *l.ffn_gate_inp, in, p.n, b.router.data(), b.kernel_ws, team);
  team.for_static(p.n, [&](int t) {
    route(p, t);
  });
  team.single([&] {
    group_by_expert(p);
    list_products(p, l);
  });

  // Gather each row's input, run every chosen expert over its rows (all experts' gate
  // and up in one group, their down in another), then sum per token.
  const int rows = p.n * used;
  team.for_static(rows, [&](int r) {
    std::memcpy(Pass::row(b.xg, r, n_embd), in + static_cast<std::size_t>(b.row_token[static_cast<std::size_t>(r)]) * n_embd,
                  sizeof(float) * static_cast<std::size_t>(n_embd));
  });
  kernels::matmul_group(p.isa, b.products.data(), 2 * b.n_active, b.kernel_ws, team);
  team.for_static(rows, [&](int r) {
    activate_gated(p.arch, Pass::row(b.eg, r, n_ff), Pass::row(b.eu, r, n_ff), Pass::row(b.eu, r, n_ff), n_ff);
  });
  kernels::matmul_group(p.isa, b.products.data() + 2 * b.n_active, b.n_active, b.kernel_ws, team);
  team.for_static(p.n, [&](int t) {
    float* o = Pass::row(b.o, t, n_embd);
    std::memset(o, 0, sizeof(float) * static_cast<std::size_t>(n_embd));
    for (int k = 0; k < used; ++k) {
      const std::size_t s = static_cast<std::size_t>(t) * used + k;
      const float* d = Pass::row(b.ed, b.slot_row[s], n_embd);
      const float w = b.sel_w[s];
      for (int i = 0; i < n_embd; ++i) o[i] += w * d[i];
    }
  });
}

}  // namespace inkling::detail
