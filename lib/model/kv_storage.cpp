#include "model/kv_storage.hpp"

#include <cstring>
#include <new>
#include <string>

#include "inkling/error.hpp"
#include "kernels/quantize_row.hpp"
#include "model/layers.hpp"

namespace inkling::detail {

void KvStorage::allocate(DType type, int n_layer, int n_seq, int n_ctx, int kv_dim) {
  type_ = type;
  n_seq_ = n_seq;
  n_ctx_ = n_ctx;
  kv_dim_ = kv_dim;
  row_bytes_ = static_cast<std::size_t>(dtype_row_bytes(type, kv_dim));
  const std::size_t bytes = static_cast<std::size_t>(n_layer) * n_seq * n_ctx * row_bytes_;
  try {
    kb_.assign(bytes, std::byte{0});
    vb_.assign(bytes, std::byte{0});
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::OutOfMemory, "KVCache: cannot allocate " + std::to_string(2 * bytes) + " bytes");
  }
}

void KvStorage::store(int layer, int seq, int pos, const float* k, const float* v) noexcept {
  std::byte* kr = k_row(layer, seq, pos);
  std::byte* vr = v_row(layer, seq, pos);
  switch (type_) {
    case DType::F16:
      kernels::to_f16(k, reinterpret_cast<std::uint16_t*>(kr), kv_dim_);
      kernels::to_f16(v, reinterpret_cast<std::uint16_t*>(vr), kv_dim_);
      break;
    case DType::Q8_0:
      kernels::quantize_row(DType::Q8_0, k, kr, kv_dim_);
      kernels::quantize_row(DType::Q8_0, v, vr, kv_dim_);
      break;
    default:
      std::memcpy(kr, k, sizeof(float) * static_cast<std::size_t>(kv_dim_));
      std::memcpy(vr, v, sizeof(float) * static_cast<std::size_t>(kv_dim_));
      break;
  }
}

void KvStorage::attend(kernels::Isa isa, int layer, int seq, int kv_head, int head_dim, int first, int n_keys,
                       const float* q, float scale, float softcap, const AttendScratch& s,
                       float* out) const noexcept {
  const std::byte* k = k_row(layer, seq, first);
  const std::byte* v = v_row(layer, seq, first);
  switch (type_) {
    case DType::F16: {
      const auto* k16 = reinterpret_cast<const std::uint16_t*>(k) + kv_head * head_dim;
      const auto* v16 = reinterpret_cast<const std::uint16_t*>(v) + kv_head * head_dim;
      kernels::to_f16(q, s.q16, head_dim);
      attend_f16(isa, s.q16, k16, v16, kv_dim_, n_keys, head_dim, scale, softcap, s.scores, out);
      break;
    }
    case DType::Q8_0: {
      // The query in Q8_0 too, so each key costs one integer block dot (as llama.cpp's
      // Q8_0 cache does); heads start on block boundaries (head_dim % 32 == 0).
      const std::size_t head_off = static_cast<std::size_t>(kv_head) * dtype_row_bytes(DType::Q8_0, head_dim);
      kernels::quantize_row(DType::Q8_0, q, s.q8, head_dim);
      attend_q8_0(isa, s.q8, k + head_off, v + head_off, row_bytes_, n_keys, head_dim, scale, softcap, s.scores,
                  s.v_row, out);
      break;
    }
    default: {
      const auto* kf = reinterpret_cast<const float*>(k) + kv_head * head_dim;
      const auto* vf = reinterpret_cast<const float*>(v) + kv_head * head_dim;
      detail::attend(isa, q, kf, vf, kv_dim_, n_keys, head_dim, scale, softcap, s.scores, out);
      break;
    }
  }
}

}  // namespace inkling::detail
