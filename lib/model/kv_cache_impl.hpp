// KVCache internals, shared by the cache and the forward pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/lazy_buffer.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/model.hpp"
#include "kernels/kernels.hpp"

namespace inkling {

// Activation buffers of one forward pass, sized on first use and then reused: no
// allocation per token once a batch of that size has run.
struct ForwardBuffers {
  std::vector<float> x, xn, q, k, v, att, o, gate, up;
  std::vector<float> rope_cos, rope_sin;  // per token, n_rot/2 each
  std::vector<float> scores;              // per thread, n_ctx each
  std::vector<float> out_rows;            // normed rows whose logits are wanted
  std::vector<int> logit_rows;            // batch index of each wanted row
  std::vector<int> seq_next;              // validation: next position per sequence
  std::vector<std::uint8_t> seq_seen;
  std::vector<std::uint16_t> q16;         // per thread: a query head rounded to fp16 (F16 cache)
  std::vector<std::byte> q8;              // per thread: a query head as Q8_0 (Q8_0 cache)
  std::vector<float> v_row;               // per thread: one decoded V head (Q8_0 cache)
  kernels::Workspace kernel_ws;
};

struct KVCache::Impl {
  const void* owner = nullptr;  // the Model::Impl this cache was sized for
  int n_ctx = 0, n_seq = 0, n_layer = 0, kv_dim = 0;
  DType type = DType::F32;
  // Layout [layer][seq][position] rows of kv_dim elements of `type`: one sequence's
  // keys are contiguous, so a fork is a memcpy and attention streams rows in order.
  // F32; F16 (half the memory, llama.cpp's default); Q8_0 (about a quarter of F32).
  // Pages are committed as positions fill (LazyBuffer), not when the cache is made.
  detail::LazyBuffer kb, vb;
  std::size_t row_bytes = 0;
  // RoPE of the model, to re-rotate keys whose position changes (remove()).
  bool rope = true;
  int n_rot = 0, head_dim = 0, n_head_kv = 0;
  float rope_base = 10000.0f, rope_scale = 1.0f;
  int rope_style = 0;  // detail::RopeStyle
  std::vector<int> length;  // filled positions per sequence
  ForwardBuffers buffers;

  std::size_t row_offset(int layer, int seq, int pos) const noexcept {
    return ((static_cast<std::size_t>(layer) * n_seq + seq) * n_ctx + pos) * row_bytes;
  }
  std::byte* k_row(int layer, int seq, int pos) noexcept { return kb.data() + row_offset(layer, seq, pos); }
  std::byte* v_row(int layer, int seq, int pos) noexcept { return vb.data() + row_offset(layer, seq, pos); }
  // Typed views of the same rows (the storage comes from operator new: aligned for both).
  float* k_at(int layer, int seq, int pos) noexcept { return reinterpret_cast<float*>(k_row(layer, seq, pos)); }
  float* v_at(int layer, int seq, int pos) noexcept { return reinterpret_cast<float*>(v_row(layer, seq, pos)); }
  std::uint16_t* k16_at(int layer, int seq, int pos) noexcept { return reinterpret_cast<std::uint16_t*>(k_row(layer, seq, pos)); }
  std::uint16_t* v16_at(int layer, int seq, int pos) noexcept { return reinterpret_cast<std::uint16_t*>(v_row(layer, seq, pos)); }
  void check_seq(int seq, const char* what) const;
};

}  // namespace inkling
