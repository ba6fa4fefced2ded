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

struct WeightKernels {
  DType activation_type = DType::F32;
  QuantizeFn quantize = nullptr;  // nullptr: activations used as f32 directly
  VecDotFn vec_dot = nullptr;     // nullptr: the type has no kernels
  GemmFn gemm = nullptr;          // optional; matmul falls back to vec_dot
  ScratchFn gemm_scratch = nullptr;  // nullptr: the gemm needs no scratch
  DequantizeFn dequantize = nullptr;
  QuantizeFn encode = nullptr;    // optional: f32 -> this type (quantize_row)
};

// Every DType value is below this (tensor.hpp's enumerators end at 35).
inline constexpr std::size_t kDTypeSlots = 40;

struct KernelTable {
  std::array<WeightKernels, kDTypeSlots> weights{};
  float (*dot_f32)(const float*, const float*, std::int64_t) = nullptr;
  void (*axpy_f32)(float, const float*, float*, std::int64_t) = nullptr;
  void (*axpy_f16)(float, const std::uint16_t*, float*, std::int64_t) = nullptr;
  // Attention over an f32 cache: out[j] = dot(q, k + j * stride) for j < n, and
  // out = sum_j w[j] * v[j * stride ...] (len elements; out overwritten).
  void (*dot_rows_f32)(const float* q, const float* k, std::int64_t stride, int n, std::int64_t len, float* out) = nullptr;
  void (*weighted_sum_f32)(const float* w, const float* v, std::int64_t stride, int n, std::int64_t len,
                           float* out) = nullptr;

  // nullptr for a type without kernels.
  const WeightKernels* for_type(DType t) const noexcept {
    const auto i = static_cast<std::size_t>(t);
    return i < weights.size() && weights[i].vec_dot ? &weights[i] : nullptr;
  }
  // The entry a backend fills or replaces (t must be below kDTypeSlots).
  WeightKernels& at(DType t) noexcept { return weights[static_cast<std::size_t>(t)]; }
};

// The plain-loop reference, always available (scalar_table.cpp).
const KernelTable& scalar_table();
#if defined(__x86_64__) || defined(__i386__)
// The x86 tables (x86/), which start from the reference and replace what they accelerate.
const KernelTable& avx2_table();
const KernelTable& avx512_table();
#endif
// The table for an instruction-set level (the scalar one for levels this build lacks).
const KernelTable& table_for(Isa isa);

}  // namespace inkling::kernels
