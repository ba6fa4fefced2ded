// Attention of a forward pass as blocked query x key tiles with an online softmax
// (flash attention): a work item is a block of consecutive tokens of one sequence and
// the query heads of one KV head (a GQA group, or part of it). Its keys are converted to
// f32 once per tile of kKeyTile positions and scored against all the item's query rows
// at once; each row keeps a running max and sum, so no full row of scores is built and
// every tile is read once per item rather than once per (token, head). An F32 cache is
// read in place.
//
// Roundings: the query is rounded as llama.cpp rounds it for the cache type (fp16 for
// F16, Q8_0 for Q8_0), keys and values are the cache's values exactly; sums run in
// another order than a per-row softmax, so results agree with it to float rounding.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/attention_tile.hpp"
#include "model/forward_pass.hpp"

namespace inkling::detail {
namespace {

constexpr int kKeyTile = 64;   // keys per tile: scores, K and V tiles stay in L1/L2
constexpr int kRowTarget = 64;  // query rows per item (tokens x heads) when the batch allows

int round_up(int x, int a) { return (x + a - 1) / a * a; }

// How the (token, head) rows of a pass are cut into items.
struct BlockShape {
  int group = 1;          // query heads per KV head
  int block_tokens = 1;   // tokens per block
  int n_blocks = 1;
  int heads_per_item = 1; // query heads of one item (all of the group unless split)
  int splits = 1;         // items per (block, KV head)
  int max_rows() const noexcept { return round_up(block_tokens * group, kernels::kAttnRowAlign); }
};

BlockShape block_shape(const ModelConfig& c, int n_tokens, int threads) {
  BlockShape s;
  s.group = c.n_head / c.n_head_kv;
  s.block_tokens = std::max(1, kRowTarget / s.group);
  s.n_blocks = (n_tokens + s.block_tokens - 1) / s.block_tokens;
  // Too few items for the threads (a decode step with few KV heads): split the group, each
  // part reading the keys again rather than leaving threads idle.
  const int base = s.n_blocks * c.n_head_kv;
  const int want = base >= threads ? 1 : std::min(s.group, (threads + base - 1) / base);
  s.heads_per_item = (s.group + want - 1) / want;
  s.splits = (s.group + s.heads_per_item - 1) / s.heads_per_item;
  return s;
}

// One thread's scratch, carved from ws.flash.
struct Scratch {
  float *qt, *o, *st, *k, *v, *m, *l, *alpha, *q;
  std::byte* q8;
  Scratch(float* base, int rs, int hd) {
    qt = base;
    o = qt + static_cast<std::size_t>(hd) * rs;
    st = o + static_cast<std::size_t>(hd) * rs;
    k = st + static_cast<std::size_t>(kKeyTile) * rs;
    v = k + static_cast<std::size_t>(kKeyTile) * hd;
    m = v + static_cast<std::size_t>(kKeyTile) * hd;
    l = m + rs;
    alpha = l + rs;
    q = alpha + rs;
    q8 = reinterpret_cast<std::byte*>(q + hd);  // one Q8_0 head: 34 bytes per 32 values
  }
  static std::size_t floats(int rs, int hd) {
    return 2 * static_cast<std::size_t>(hd) * rs + static_cast<std::size_t>(kKeyTile) * (rs + 2 * hd) + 3 * rs + 2 * hd;
  }
};

// The rows of one item's run: tokens [t0, t1) of one sequence x heads [h0, h0 + nh).
struct Run {
  int t0, t1, h0, nh, kv_head;
  int rows() const noexcept { return (t1 - t0) * nh; }
};

// Positions j token t attends to: first(t) <= j <= pos[t] (a sliding window keeps
// pos - j < window).
int first_key(const Pass& p, int window, int t) { return window > 0 ? std::max(0, p.pos[t] - window + 1) : 0; }

// -inf over the scores of keys [k0, k0 + nk) outside each row's causal range / window.
void mask_tile(const Pass& p, const Run& run, int window, int k0, int nk, int rs, float* st) {
  for (int t = run.t0; t < run.t1; ++t) {
    const int lo = first_key(p, window, t) - k0, hi = p.pos[t] - k0;  // valid j in [lo, hi]
    if (lo <= 0 && hi >= nk - 1) continue;
    const int r0 = (t - run.t0) * run.nh;
    for (int j = 0; j < nk; ++j) {
      if (j >= lo && j <= hi) continue;
      std::fill_n(st + static_cast<std::size_t>(j) * rs + r0, run.nh, -INFINITY);
    }
  }
}

void attend_run(const Pass& p, int il, const Run& run, int window, float scale, const Scratch& s) {
  const ModelConfig& c = p.c;
  const int hd = c.head_dim, rows = run.rows(), rs = round_up(rows, kernels::kAttnRowAlign);
  const int seq = p.seq[run.t0];
  std::fill_n(s.qt, static_cast<std::size_t>(hd) * rs, 0.0f);
  for (int r = 0; r < rows; ++r) {
    const int t = run.t0 + r / run.nh, h = run.h0 + r % run.nh;
    p.kv.round_query(p.ws.q.data() + static_cast<std::size_t>(t) * p.q_stride() + static_cast<std::size_t>(h) * hd,
                     hd, s.q8, s.q);
    for (int i = 0; i < hd; ++i) s.qt[static_cast<std::size_t>(i) * rs + r] = s.q[i];
  }
  std::fill_n(s.o, static_cast<std::size_t>(rows) * hd, 0.0f);
  std::fill_n(s.m, rs, -INFINITY);
  std::fill_n(s.l, rs, 0.0f);
  int lo = p.pos[run.t0], hi = p.pos[run.t0];
  for (int t = run.t0; t < run.t1; ++t) lo = std::min(lo, first_key(p, window, t)), hi = std::max(hi, p.pos[t]);
  const float cap = c.attn_logit_softcap;
  for (int k0 = lo; k0 <= hi; k0 += kKeyTile) {
    const int nk = std::min(kKeyTile, hi + 1 - k0);
    const KvStorage::F32Rows kv = p.kv.f32_rows(p.isa, il, seq, run.kv_head, hd, k0, nk, s.k, s.v);
    kernels::attn_scores(p.isa, kv.k, kv.stride, nk, hd, s.qt, rs, scale, s.st);
    if (cap > 0)
      for (int i = 0; i < nk * rs; ++i) s.st[i] = cap * std::tanh(s.st[i] / cap);
    mask_tile(p, run, window, k0, nk, rs, s.st);
    kernels::attn_softmax(p.isa, s.st, nk, rs, s.m, s.l, s.alpha);
    kernels::attn_accumulate(p.isa, s.st, nk, rs, rows, kv.v, kv.stride, hd, s.alpha, s.o);
  }
  for (int r = 0; r < rows; ++r) {
    const int t = run.t0 + r / run.nh, h = run.h0 + r % run.nh;
    float* out = Pass::row(p.ws.att, t, c.q_dim()) + static_cast<std::size_t>(h) * hd;
    const float inv = 1.0f / s.l[r];
    for (int i = 0; i < hd; ++i) out[i] = s.o[static_cast<std::size_t>(r) * hd + i] * inv;
  }
}

}  // namespace

std::size_t blocked_attention_floats(const ModelConfig& c) {
  const BlockShape s = block_shape(c, 1, 1);
  return Scratch::floats(s.max_rows(), c.head_dim);
}

void blocked_attention(const Pass& p, TeamMember& team, int il) {
  const ModelConfig& c = p.c;
  const BlockShape sh = block_shape(c, p.n, team.size());
  const float scale = c.attention_scale > 0 ? c.attention_scale : 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  const int window = layer_windowed(p.arch, c.sliding_window, il) ? c.sliding_window : 0;
  const Scratch s(p.ws.flash.data() + static_cast<std::size_t>(team.id()) * blocked_attention_floats(c),
                  sh.max_rows(), c.head_dim);
  const int per_block = c.n_head_kv * sh.splits;
  // Round robin: with a causal mask a block's cost grows with its position.
  team.for_cyclic(static_cast<std::int64_t>(sh.n_blocks) * per_block, [&](std::int64_t item) {
    const int blk = static_cast<int>(item / per_block), rem = static_cast<int>(item % per_block);
    const int kv_head = rem / sh.splits, part = rem % sh.splits;
    const int h0 = kv_head * sh.group + part * sh.heads_per_item;
    const int nh = std::min(sh.heads_per_item, sh.group - part * sh.heads_per_item);
    const int end = std::min(p.n, (blk + 1) * sh.block_tokens);
    // A block's tokens in runs of one sequence (a batch may mix sequences).
    for (int t0 = blk * sh.block_tokens; t0 < end;) {
      int t1 = t0 + 1;
      while (t1 < end && p.seq[t1] == p.seq[t0]) ++t1;
      attend_run(p, il, Run{t0, t1, h0, nh, kv_head}, window, scale, s);
      t0 = t1;
    }
  });
}

}  // namespace inkling::detail
