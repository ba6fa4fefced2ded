// The key/value rows of a KVCache in one of its storage types (F32, F16, Q8_0), behind
// the two operations the forward pass needs: store a token's K/V, and attend one query
// head over a range of stored positions. The type is chosen once per cache; the branch
// on it lives here, not in the layer loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "inkling/tensor.hpp"
#include "kernels/kernels.hpp"

namespace inkling::detail {

// Per-thread scratch of attend(): `scores` holds n_ctx floats; `q16` (F16) and `v_row`
// (Q8_0) head_dim values; `q8` one Q8_0 head. Unused members may be null.
struct AttendScratch {
  float* scores = nullptr;
  std::uint16_t* q16 = nullptr;
  std::byte* q8 = nullptr;
  float* v_row = nullptr;
};

class KvStorage {
 public:
  // Sizes (and zero-fills) rows for n_layer x n_seq x n_ctx positions of kv_dim values.
  // Throws Error(OutOfMemory) when the allocation fails.
  void allocate(DType type, int n_layer, int n_seq, int n_ctx, int kv_dim);

  DType type() const noexcept { return type_; }
  int kv_dim() const noexcept { return kv_dim_; }
  std::size_t row_bytes() const noexcept { return row_bytes_; }
  std::size_t bytes() const noexcept { return kb_.size() + vb_.size(); }

  // Rows of one layer and sequence, position `pos` onwards (contiguous in position).
  std::byte* k_row(int layer, int seq, int pos) noexcept { return kb_.data() + offset(layer, seq, pos); }
  std::byte* v_row(int layer, int seq, int pos) noexcept { return vb_.data() + offset(layer, seq, pos); }
  const std::byte* k_row(int layer, int seq, int pos) const noexcept { return kb_.data() + offset(layer, seq, pos); }
  const std::byte* v_row(int layer, int seq, int pos) const noexcept { return vb_.data() + offset(layer, seq, pos); }

  // Converts kv_dim keys and values to the storage type at (layer, seq, pos).
  void store(int layer, int seq, int pos, const float* k, const float* v) noexcept;

  // One query head (head_dim floats) attending over positions [first, first + n_keys) of
  // KV head `kv_head`: out = softmax(softcap(scale · K·q)) · V, with the roundings of
  // llama.cpp's cache of the same type (the query rounded to fp16 for F16, quantized to
  // Q8_0 for Q8_0).
  void attend(kernels::Isa isa, int layer, int seq, int kv_head, int head_dim, int first, int n_keys,
              const float* q, float scale, float softcap, const AttendScratch& scratch, float* out) const noexcept;

 private:
  std::size_t offset(int layer, int seq, int pos) const noexcept {
    return ((static_cast<std::size_t>(layer) * n_seq_ + seq) * n_ctx_ + pos) * row_bytes_;
  }

  DType type_ = DType::F32;
  int n_seq_ = 0, n_ctx_ = 0, kv_dim_ = 0;
  std::size_t row_bytes_ = 0;
  // Layout [layer][seq][position]: one sequence's keys are contiguous, so a fork is a
  // memcpy and attention streams rows in order. The storage comes from operator new:
  // aligned for floats and fp16 alike.
  std::vector<std::byte> kb_, vb_;
};

}  // namespace inkling::detail
