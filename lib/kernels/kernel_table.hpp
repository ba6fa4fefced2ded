// Per-ISA function tables: one entry per weight type, chosen once at run time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.hpp"

namespace inkling::kernels {

// Converts one activation row of k floats to a weight type's vec-dot partner type.
using QuantizeFn = void (*)(const float* x, void* out, std::int64_t k);
// Dot product of one weight row with one converted activation row, both k elements.
using VecDotFn = float (*)(std::int64_t k, const void* w, const void* a);
// A tile of the product for prefill: y[t * ldy + r] = dot(weight row r, activation row t)
// for r < rows, t < tokens. Each weight block is loaded once for several tokens and each
// activation block once for several rows, which is what makes prefill fast.
using GemmFn = void (*)(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a,
                        std::size_t a_row, int tokens, float* y, std::int64_t ldy);

struct WeightKernels {
  DType activation_type = DType::F32;
  QuantizeFn quantize = nullptr;  // nullptr: activations used as f32 directly
  VecDotFn vec_dot = nullptr;
  GemmFn gemm = nullptr;          // optional; matmul falls back to vec_dot
};

struct KernelTable {
  WeightKernels f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, q3_k, q4_k, q5_k, q6_k;
  float (*dot_f32)(const float*, const float*, std::int64_t) = nullptr;
  void (*axpy_f32)(float, const float*, float*, std::int64_t) = nullptr;
  void (*axpy_f16)(float, const std::uint16_t*, float*, std::int64_t) = nullptr;
  // Attention over an f32 cache: out[j] = dot(q, k + j * stride) for j < n, and
  // out = sum_j w[j] * v[j * stride ...] (len elements; out overwritten).
  void (*dot_rows_f32)(const float* q, const float* k, std::int64_t stride, int n, std::int64_t len, float* out) = nullptr;
  void (*weighted_sum_f32)(const float* w, const float* v, std::int64_t stride, int n, std::int64_t len,
                           float* out) = nullptr;

  // nullptr for a type without kernels.
  const WeightKernels* for_type(DType t) const noexcept;
};

// The plain-loop reference (always available) and the vectorised tables, which start
// from the reference and replace what they accelerate.
const KernelTable& scalar_table();
const KernelTable& avx2_table();
const KernelTable& avx512_table();
const KernelTable& table_for(Isa isa);

// Scalar reference functions, exposed so the vector tables and tests can use them.
namespace ref {
void quantize_q8_0(const float* x, void* out, std::int64_t k);
void quantize_q8_1(const float* x, void* out, std::int64_t k);
void quantize_q8_k(const float* x, void* out, std::int64_t k);
void quantize_f16(const float* x, void* out, std::int64_t k);
void quantize_bf16(const float* x, void* out, std::int64_t k);
float dot_f32(const float* a, const float* b, std::int64_t n);
void axpy_f32(float a, const float* x, float* y, std::int64_t n);
void axpy_f16(float a, const std::uint16_t* x, float* y, std::int64_t n);
void dot_rows_f32(const float* q, const float* k, std::int64_t stride, int n, std::int64_t len, float* out);
void weighted_sum_f32(const float* w, const float* v, std::int64_t stride, int n, std::int64_t len, float* out);
}  // namespace ref

}  // namespace inkling::kernels
