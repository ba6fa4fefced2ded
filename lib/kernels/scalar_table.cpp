// The scalar reference table: one registration line per format (formats/<type>.hpp),
// plus the plain f32 helpers. Every vectorised table starts from it.
#include "kernels/formats/all.hpp"
#include "kernels/encoder_ops.hpp"
#include "kernels/formats/attention.hpp"
#include "kernels/kernel_table.hpp"

namespace inkling::kernels {
namespace {

KernelTable make_scalar_table() {
  KernelTable t;
  t.at(DType::F32) = f32_reference();
  t.at(DType::F16) = f16_reference();
  t.at(DType::BF16) = bf16_reference();
  t.at(DType::Q4_0) = q4_0_reference();
  register_rows8(t);
  t.at(DType::Q4_1) = q4_1_reference();
  t.at(DType::Q5_0) = q5_0_reference();
  t.at(DType::Q5_1) = q5_1_reference();
  t.at(DType::Q8_0) = q8_0_reference();
  t.at(DType::Q2_K) = q2_k_reference();
  t.at(DType::Q3_K) = q3_k_reference();
  t.at(DType::Q4_K) = q4_k_reference();
  t.at(DType::Q5_K) = q5_k_reference();
  t.at(DType::Q6_K) = q6_k_reference();
  register_klanes(t);
  t.dot_f32 = ref::dot_f32;
  t.axpy_f32 = ref::axpy_f32;
  t.dot_rows_f32 = ref::dot_rows_f32;
  t.weighted_sum_f32 = ref::weighted_sum_f32;
  t.axpy_f16 = ref::axpy_f16;
  t.attn_scores = ref::attn_scores;
  t.attn_softmax = ref::attn_softmax;
  t.attn_accumulate = ref::attn_accumulate;
  t.f16_rows_to_f32 = ref::f16_rows_to_f32;
  t.q8_0_rows_to_f32 = ref::q8_0_rows_to_f32;
  t.add_norm = ref::add_norm;
  t.bias_gelu = ref::bias_gelu;
  return t;
}

}  // namespace

const KernelTable& scalar_table() {
  static const KernelTable t = make_scalar_table();
  return t;
}

bool is_supported(DType type) noexcept { return scalar_table().for_type(type) != nullptr; }

void dequantize_row(DType type, const std::byte* src, float* dst, std::int64_t n) {
  const WeightKernels* k = scalar_table().for_type(type);
  if (k) return k->dequantize(src, dst, n);
  std::memset(dst, 0, sizeof(float) * static_cast<std::size_t>(n));  // never bound: see is_supported
}

const KernelTable& table_for(Isa isa) {
  // Only this CPU family's tables are built; detect_isa never returns another family's.
  switch (isa) {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
    case Isa::Avx512: return avx512_table();
    case Isa::Avx2: return avx2_table();
#elif defined(__aarch64__) || defined(_M_ARM64)
    case Isa::NeonI8mm: return i8mm_table();
    case Isa::NeonDot: return dotprod_table();
    case Isa::Neon: return neon_table();
#endif
    default: break;
  }
  return scalar_table();
}

}  // namespace inkling::kernels
