#include "model/kv_storage.hpp"

#include <cstring>
#include <new>
#include <string>

#include "inkling/error.hpp"
#include "kernels/attention_tile.hpp"
#include "kernels/fp16.hpp"
#include "kernels/quantize_row.hpp"

namespace inkling::detail {

void KvStorage::allocate(DType type, int n_layer, int n_seq, int n_ctx, int kv_dim) {
  type_ = type;
  n_seq_ = n_seq;
  n_ctx_ = n_ctx;
  kv_dim_ = kv_dim;
  row_bytes_ = static_cast<std::size_t>(dtype_row_bytes(type, kv_dim));
  const std::size_t bytes = static_cast<std::size_t>(n_layer) * n_seq * n_ctx * row_bytes_;
  // Zeroed pages committed as positions fill (LazyBuffer): Error(OutOfMemory) when the
  // address space cannot be reserved.
  kb_ = LazyBuffer(bytes);
  vb_ = LazyBuffer(bytes);
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

void KvStorage::round_query(const float* q, int head_dim, std::byte* q8, float* out) const noexcept {
  switch (type_) {
    case DType::F16:
      for (int i = 0; i < head_dim; ++i) out[i] = kernels::fp16_to_f32(kernels::f32_to_fp16(q[i]));
      break;
    case DType::Q8_0:
      kernels::quantize_row(DType::Q8_0, q, q8, head_dim);
      kernels::dequantize_row(DType::Q8_0, q8, out, head_dim);
      break;
    default:
      std::memcpy(out, q, sizeof(float) * static_cast<std::size_t>(head_dim));
      break;
  }
}

KvStorage::F32Rows KvStorage::f32_rows(kernels::Isa isa, int layer, int seq, int kv_head, int head_dim, int first,
                                      int n, float* k_buf, float* v_buf) const noexcept {
  // Heads start on block boundaries (head_dim % 32 == 0 for a Q8_0 cache).
  const std::size_t head_off = static_cast<std::size_t>(kv_head) * dtype_row_bytes(type_, head_dim);
  const std::byte* kr = k_row(layer, seq, first) + head_off;
  const std::byte* vr = v_row(layer, seq, first) + head_off;
  if (type_ == DType::F32)
    return {reinterpret_cast<const float*>(kr), reinterpret_cast<const float*>(vr), kv_dim_};
  const auto convert = type_ == DType::F16 ? kernels::f16_rows_to_f32 : kernels::q8_0_rows_to_f32;
  convert(isa, kr, row_bytes_, n, head_dim, k_buf);
  convert(isa, vr, row_bytes_, n, head_dim, v_buf);
  return {k_buf, v_buf, head_dim};
}

}  // namespace inkling::detail
