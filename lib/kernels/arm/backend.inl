// The ARM64 backend: one source, included by backend_neon.cpp, backend_dotprod.cpp and
// backend_i8mm.cpp inside a per-level namespace, with that file's -march flags, so the
// same kernels become three versions:
//   neon     ARMv8.0 Advanced SIMD: int8 products with SMULL + SADALP;
//   dotprod  + SDOT (4 int8 products summed into each int32 lane per instruction);
//   i8mm     + SMMLA (a 2x8 by 8x2 int8 matrix product per instruction) in the prefill
//            tiles, which then take two weight rows and two tokens at a time.
// The compiler's feature macros (__ARM_FEATURE_DOTPROD, __ARM_FEATURE_MATMUL_INT8)
// select the instructions; everything else is the same code. Numerics follow the
// scalar reference (formats/): integer sums per block are exact; only the order of the
// float sums differs.

#include "kernels/arm/common.inl"
#include "kernels/arm/float.inl"
#include "kernels/arm/q32.inl"
#include "kernels/arm/k_quant.inl"

KernelTable make_table() {
  KernelTable t = scalar_table();
  install_float(t);
  install_q32(t);
  install_k_quants(t);
  return t;
}
