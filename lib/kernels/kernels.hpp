// The numeric kernels the model layers call. Internal to the library.
//
// Threading contract: functions marked "collective" take the calling thread's place in
// a team job (common/thread_team.hpp). Call them from every member of the job with the
// same arguments (they share out the work and end with a barrier), or with a
// default-constructed TeamMember (a team of one) from outside any job. This lets a whole
// forward pass run as one team job: no thread start-up per operation, no allocation per
// token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/thread_team.hpp"
#include "inkling/tensor.hpp"

namespace inkling::kernels {

// Instruction-set levels, lowest first within each CPU family (x86: Avx2 < Avx512;
// ARM64: Neon < NeonDot < NeonI8mm). Chosen once at run time (cpu.cpp).
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3, NeonDot = 4, NeonI8mm = 5 };
// Every level, for tests that try each one the CPU supports.
inline constexpr Isa kAllIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon, Isa::NeonDot, Isa::NeonI8mm};

std::string_view isa_name(Isa isa) noexcept;
// The best level this CPU and OS support (x86: CPUID + XGETBV; ARM64: the OS's
// HWCAP / sysctl feature flags), lowered by the environment variable
// INKLING_ISA=scalar|avx2|avx512|neon|dotprod|i8mm (used by tests to exercise every path).
Isa detect_isa() noexcept;
// Whether this CPU can run code compiled for `isa` (tests skip levels it cannot).
bool isa_supported(Isa isa) noexcept;
// Extra capabilities reported for `inkling info` / bench output, e.g. "avx512_vnni".
std::string cpu_description();

// Weight types the matmul and dequantize paths handle.
bool is_supported(DType type) noexcept;

// The layout (TensorView::layout) `isa`'s kernels would repack weights of `type` into,
// or 0 if they use the file's layout as it is.
std::uint32_t repack_layout(Isa isa, DType type) noexcept;
// Repacks w's rows in place into repack_layout(isa, w.type) (which must be nonzero);
// `data` is w.data made writable. The caller then sets w.layout.
void repack(Isa isa, const TensorView& w, std::byte* data);

// Dequantizes n elements (a multiple of the type's block size) of a row.
void dequantize_row(DType type, const std::byte* src, float* dst, std::int64_t n);

// Scratch memory shared by the threads of one forward pass; grows, never shrinks. The
// kernels own no memory: what they need between calls or per thread comes from here.
struct Workspace {
  std::vector<std::byte> activations;  // converted activation rows, shared by all threads
  std::vector<std::byte> gemm_scratch;  // one 64-byte aligned slice per thread (GemmFn)
  // matmul_group: per product, its first activation row and first work item.
  std::vector<std::int64_t> group_rows, group_items;
};

// Collective. y[t * M + m] = dot(row m of w, x[t * K ...]) for t < n_tokens, where
// K = w.shape[0] and M = w.rows(). Activations are first converted to the weight
// type's vec-dot partner (Q8_0 for Q4_0/Q8_0, F16 for F16, ... as llama.cpp does) so
// that results match llama.cpp's CPU backend within rounding.
// Weight rows are handed out in blocks on demand (TeamMember::for_dynamic).
void matmul(Isa isa, const TensorView& w, const float* x, int n_tokens, float* y, Workspace& ws,
            detail::TeamMember& team);
// The same on the calling thread alone.
inline void matmul(Isa isa, const TensorView& w, const float* x, int n_tokens, float* y, Workspace& ws) {
  detail::TeamMember alone;
  matmul(isa, w, x, n_tokens, y, ws, alone);
}

// One product of a group: y[t * M + m] = dot(row m of *w, x[t * K ...]) for t < n_tokens.
struct GroupProduct {
  const TensorView* w = nullptr;
  const float* x = nullptr;
  int n_tokens = 0;
  float* y = nullptr;
};
// Collective. Every product of `group` (whose weights share one type, layout and row
// length, as a mixture-of-experts layer's experts do), as matmul computes each: the
// activations of all of them converted in one loop, then the row blocks of all of them
// handed out from one counter. A few small products (a token through its few experts)
// thus cost two loops and their barriers, not three per product, and the threads share
// the products however unevenly the tokens chose them. `group` is read by every member:
// fill it before the call (in a single()).
void matmul_group(Isa isa, const GroupProduct* group, int n_products, Workspace& ws, detail::TeamMember& team);

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
