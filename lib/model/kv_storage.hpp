// The key/value rows of a KVCache in one of its storage types (F32, F16, Q8_0), behind
// the operations the forward pass needs: store a token's K/V, and read a range of
// positions back as f32 for attention (model/blocked_attention.cpp). The type is chosen once per cache; the branch
// on it lives here, not in the layer loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/lazy_buffer.hpp"
#include "inkling/tensor.hpp"
#include "kernels/kernels.hpp"

namespace inkling::detail {

class KvStorage {
 public:
  // Sizes zero-filled rows for n_layer x n_seq x n_ctx positions of kv_dim values (memory
  // is committed only as rows are written). Throws Error(OutOfMemory) when the address
  // space cannot be reserved.
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

  // A query head rounded as llama.cpp rounds it for this cache type's dot products: to
  // fp16 (F16), through Q8_0 (Q8_0; `q8` holds one Q8_0 head), unchanged (F32).
  void round_query(const float* q, int head_dim, std::byte* q8, float* out) const noexcept;

  // K and V of KV head `kv_head` at positions [first, first + n) as f32 rows `stride`
  // floats apart: an F32 cache's own rows, other types converted into k_buf and v_buf
  // (n * head_dim floats each).
  struct F32Rows {
    const float *k, *v;
    std::int64_t stride;
  };
  F32Rows f32_rows(kernels::Isa isa, int layer, int seq, int kv_head, int head_dim, int first, int n, float* k_buf,
                   float* v_buf) const noexcept;

 private:
  std::size_t offset(int layer, int seq, int pos) const noexcept {
    return ((static_cast<std::size_t>(layer) * n_seq_ + seq) * n_ctx_ + pos) * row_bytes_;
  }

  DType type_ = DType::F32;
  int n_seq_ = 0, n_ctx_ = 0, kv_dim_ = 0;
  std::size_t row_bytes_ = 0;
  // Layout [layer][seq][position]: one sequence's keys are contiguous, so a fork is a
  // memcpy and attention streams rows in order. The storage is page-aligned (aligned for
  // floats and fp16 alike), its pages committed as positions fill.
  LazyBuffer kb_, vb_;
};

}  // namespace inkling::detail
