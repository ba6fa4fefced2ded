// The activation buffers of forward passes, sized on first use and then reused: no
// allocation per token once a batch of that size has run. A KVCache owns one (the cache
// is the per-caller object; the Model is shared and immutable).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/thread_team.hpp"
#include "kernels/kernels.hpp"

namespace inkling::detail {

struct ForwardWorkspace {
  // Per token (rows of the batch): the residual stream, normed input, projections, ...
  std::vector<float> x, xn, q, k, v, att, o, gate, up;
  std::vector<float> rope_cos, rope_sin;  // per token, n_rot/2 each
  std::vector<float> out_rows;            // normed rows whose logits are wanted
  std::vector<int> logit_rows;            // batch index of each wanted row
  std::vector<int> seq_next;              // validation: next position per sequence
  std::vector<std::uint8_t> seq_seen;
  // Per thread: the blocked attention's tiles (blocked_attention_floats each); the
  // encoder's attention scores.
  std::vector<float> flash, scores;
  kernels::Workspace kernel_ws;
  ThreadTeam team;  // the threads of this cache's passes
  // Mixture of experts: router logits (n x n_expert), each token's chosen experts and
  // weights (n x used), the rows grouped by expert (expert_begin[e] .. [e+1]) with the
  // token of each row and the row of each (token, slot), and the grouped activations.
  std::vector<float> router, sel_w;
  std::vector<int> sel, expert_begin, row_token, slot_row;
  std::vector<float> xg, eg, eu, ed;
  // The chosen experts' products: gate and up of each (2 per expert), then down.
  std::vector<kernels::GroupProduct> products;
  int n_active = 0;  // experts chosen by at least one token

  template <typename T>
  static void grow(std::vector<T>& v, std::size_t n) {
    if (v.size() < n) v.resize(n);
  }
};

}  // namespace inkling::detail
