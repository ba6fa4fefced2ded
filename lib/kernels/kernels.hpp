// The numeric kernels the model layers call. Internal to the library.
//
// Threading contract: functions marked "collective" use orphaned OpenMP worksharing
// (`#pragma omp for` / `omp single`). Call them from every thread of an enclosing
// `#pragma omp parallel` region (they split the work and end with a barrier), or
// from outside any parallel region (they then run on the calling thread alone).
// This lets a whole forward pass run in one parallel region: no thread start-up per
// operation, no allocation per token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "inkling/tensor.hpp"

namespace inkling::kernels {

// Instruction-set levels, lowest first. Chosen once at run time (cpu.cpp).
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

std::string_view isa_name(Isa isa) noexcept;
// The best level this CPU and OS support (CPUID + XGETBV), lowered by the environment
// variable INKLING_ISA=scalar|avx2|avx512 (used by tests to exercise every path).
Isa detect_isa() noexcept;
// Whether this CPU can run code compiled for `isa` (tests skip levels it cannot).
bool isa_supported(Isa isa) noexcept;
// Extra capabilities reported for `inkling info` / bench output, e.g. "avx512_vnni".
std::string cpu_description();

// Weight types the matmul and dequantize paths handle.
bool is_supported(DType type) noexcept;

// Dequantizes n elements (a multiple of the type's block size) of a row.
void dequantize_row(DType type, const std::byte* src, float* dst, std::int64_t n);

// Scratch memory shared by the threads of one forward pass; grows, never shrinks. The
// kernels own no memory: what they need between calls or per thread comes from here.
struct Workspace {
  std::vector<std::byte> activations;  // converted activation rows, shared by all threads
  std::vector<std::byte> gemm_scratch;  // one 64-byte aligned slice per thread (GemmFn)
};

// Collective. y[t * M + m] = dot(row m of w, x[t * K ...]) for t < n_tokens, where
// K = w.shape[0] and M = w.rows(). Activations are first converted to the weight
// type's vec-dot partner (Q8_0 for Q4_0/Q8_0, F16 for F16, ... as llama.cpp does) so
// that results match llama.cpp's CPU backend within rounding.
void matmul(Isa isa, const TensorView& w, const float* x, int n_tokens, float* y, Workspace& ws);

// Plain f32 helpers used by attention and norms (not collective).
float dot_f32(Isa isa, const float* a, const float* b, std::int64_t n);
void axpy_f32(Isa isa, float a, const float* x, float* y, std::int64_t n);  // y += a * x
// Attention helpers over an f32 KV cache with row stride `stride` (see KernelTable).
void dot_rows_f32(Isa isa, const float* q, const float* k, std::int64_t stride, int n, std::int64_t len, float* out);
void weighted_sum_f32(Isa isa, const float* w, const float* v, std::int64_t stride, int n, std::int64_t len, float* out);
// The same over fp16 data (an F16 KV cache): dot of two fp16 rows, y += a * x.
float dot_f16(Isa isa, const std::uint16_t* a, const std::uint16_t* b, std::int64_t n);
void axpy_f16(Isa isa, float a, const std::uint16_t* x, float* y, std::int64_t n);
// Memory bandwidth in GB/s (STREAM triad a = b + s*c, best of `repetitions` after a
// warm-up) with `threads` threads over three arrays of bytes_per_array each.
double triad_bandwidth(int threads, std::size_t bytes_per_array = 64u << 20, int repetitions = 5);

// Dot of two Q8_0 rows of n elements (n a multiple of 32).
float dot_q8_0(Isa isa, const std::byte* a, const std::byte* b, std::int64_t n);

// Rounds n floats to fp16.
void to_f16(const float* x, std::uint16_t* y, std::int64_t n);

}  // namespace inkling::kernels
