// The kernel table: for every weight type, the functions that dequantize it and multiply
// it with activations, indexed by DType. One table per backend (scalar reference, AVX2,
// AVX-512, later ARM NEON...), chosen once at run time (table_for).
//
// How the pieces fit:
// - lib/kernels/formats/<type>.hpp holds a format's block layout, its scalar reference
//   (dequantize, vec_dot, encode) and `<type>_reference()`, the entry registered in the
//   scalar table (scalar_table.cpp, one line per format).
// - A backend (x86/ for AVX2 and AVX-512) copies the scalar table and replaces, format by
//   format, what it accelerates (x86/<type>.inl ends with `install_<type>(KernelTable&)`).
//   A backend for another CPU family does the same from its own folder; sources of a
//   family compile only for targets of that family (lib/CMakeLists.txt).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "kernels/kernels.hpp"

namespace inkling::kernels {

// Converts one activation row of k floats to a weight type's vec-dot partner type. Also
// the shape of an encoder (f32 -> the weight type itself, for the file converter).
using QuantizeFn = void (*)(const float* x, void* out, std::int64_t k);
// Dot product of one weight row with one converted activation row, both k elements.
using VecDotFn = float (*)(std::int64_t k, const void* w, const void* a);
// A tile of the product for prefill: y[t * ldy + r] = dot(weight row r, activation row t)
// for r < rows, t < tokens. Each weight block is loaded once for several tokens and each
// activation block once for several rows, which is what makes prefill fast. `scratch`
// is the calling thread's own memory of gemm_scratch(k) bytes, 64-byte aligned (the
// caller's workspace: kernels keep no memory of their own).
using GemmFn = void (*)(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a,
                        std::size_t a_row, int tokens, float* y, std::int64_t ldy, std::byte* scratch);
// Bytes of scratch a GemmFn needs for rows of k elements.
using ScratchFn = std::size_t (*)(std::int64_t k);
// Dequantizes n elements (a multiple of the block size) of a row.
using DequantizeFn = void (*)(const void* src, float* y, std::int64_t n);
// Bytes of one converted activation row of k elements.
using ActivationRowFn = std::size_t (*)(std::int64_t k);
// Rewrites `rows` rows of k elements in place into the entry's repacked layout.
using RepackFn = void (*)(std::byte* data, std::int64_t k, std::int64_t rows);

struct WeightKernels {
  DType activation_type = DType::F32;
  QuantizeFn quantize = nullptr;  // nullptr: activations used as f32 directly
  VecDotFn vec_dot = nullptr;     // nullptr: the type has no kernels
  GemmFn gemm = nullptr;          // optional; matmul falls back to vec_dot
  ScratchFn gemm_scratch = nullptr;  // nullptr: the gemm needs no scratch
  DequantizeFn dequantize = nullptr;
  QuantizeFn encode = nullptr;    // optional: f32 -> this type (quantize_row)
  // nullptr: activation rows are dtype_row_bytes(activation_type, k) bytes.
  ActivationRowFn activation_row = nullptr;
  // Optional, on a plain entry: the layout the weights can be repacked into at load
  // (TensorView::layout), whose kernels are KernelTable::packed[type] (whose own
  // repack_layout names the layout they read). A layout is the same for every backend
  // (the scalar table computes it too); its kernels differ.
  RepackFn repack = nullptr;
  std::uint32_t repack_layout = 0;
};

// Every DType value is below this (tensor.hpp's enumerators end at 35).
inline constexpr std::size_t kDTypeSlots = 40;

struct KernelTable {
  std::array<WeightKernels, kDTypeSlots> weights{};
  // Kernels of repacked tensors (TensorView::layout != 0), by type: gemm only, used for
  // every token count since repacked rows have no per-row vec_dot.
  std::array<WeightKernels, kDTypeSlots> packed{};
  float (*dot_f32)(const float*, const float*, std::int64_t) = nullptr;
  void (*axpy_f32)(float, const float*, float*, std::int64_t) = nullptr;
  void (*axpy_f16)(float, const std::uint16_t*, float*, std::int64_t) = nullptr;
  // Attention over an f32 cache: out[j] = dot(q, k + j * stride) for j < n, and
  // out = sum_j w[j] * v[j * stride ...] (len elements; out overwritten).
  void (*dot_rows_f32)(const float* q, const float* k, std::int64_t stride, int n, std::int64_t len, float* out) = nullptr;
  void (*weighted_sum_f32)(const float* w, const float* v, std::int64_t stride, int n, std::int64_t len,
                           float* out) = nullptr;
  // Blocked attention tiles (attention_tile.hpp, which says what each computes).
  void (*attn_scores)(const float* k, std::int64_t k_stride, int n_keys, int head_dim, const float* qt, int rs,
                      float scale, float* st) = nullptr;
  void (*attn_softmax)(float* st, int n_keys, int rs, float* m, float* l, float* alpha) = nullptr;
  void (*attn_accumulate)(const float* p, int n_keys, int rs, int rows, const float* v, std::int64_t v_stride,
                          int head_dim, const float* alpha, float* o) = nullptr;
  void (*f16_rows_to_f32)(const std::byte* x, std::size_t stride, int rows, std::int64_t n, float* y) = nullptr;
  void (*q8_0_rows_to_f32)(const std::byte* x, std::size_t stride, int rows, std::int64_t n, float* y) = nullptr;
  // Encoder row steps (encoder_ops.hpp).
  void (*add_norm)(float* x, const float* o, const float* bias, const float* weight, const float* norm_bias, float eps,
                   std::int64_t n) = nullptr;
  void (*bias_gelu)(float* x, const float* bias, const float* table, std::int64_t n) = nullptr;

  // nullptr for a type without kernels.
  const WeightKernels* for_type(DType t) const noexcept {
    const auto i = static_cast<std::size_t>(t);
    return i < weights.size() && weights[i].vec_dot ? &weights[i] : nullptr;
  }
  // The kernels for a tensor of type t in `layout`; nullptr if there are none.
  const WeightKernels* for_tensor(DType t, std::uint32_t layout) const noexcept {
    if (layout == 0) return for_type(t);
    const auto i = static_cast<std::size_t>(t);
    return i < packed.size() && packed[i].gemm && packed[i].repack_layout == layout ? &packed[i] : nullptr;
  }
  // The entry a backend fills or replaces (t must be below kDTypeSlots).
  WeightKernels& at(DType t) noexcept { return weights[static_cast<std::size_t>(t)]; }
  WeightKernels& packed_at(DType t) noexcept { return packed[static_cast<std::size_t>(t)]; }
};

// The plain-loop reference, always available (scalar_table.cpp).
const KernelTable& scalar_table();
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
// The x86 tables (x86/), which start from the reference and replace what they accelerate.
const KernelTable& avx2_table();
const KernelTable& avx512_table();
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
// The ARM64 tables (arm/), built the same way.
const KernelTable& neon_table();     // ARMv8.0 Advanced SIMD
const KernelTable& dotprod_table();  // + SDOT
const KernelTable& i8mm_table();     // + SMMLA in the prefill tiles
#endif
// The table for an instruction-set level (the scalar one for levels this build lacks).
const KernelTable& table_for(Isa isa);

}  // namespace inkling::kernels
