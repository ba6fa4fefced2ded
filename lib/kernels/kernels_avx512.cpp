// AVX-512 (F, BW, DQ, VL, VNNI) kernels (this file is compiled with those flags only).
// Int8 dot products use VNNI's vpdpbusd; float code uses 512-bit xsimd batches.
#include <immintrin.h>

#include <cstring>

#include <xsimd/xsimd.hpp>

#include "kernels/blocks.hpp"
#include "kernels/fp16.hpp"
#include "kernels/kernel_table.hpp"

namespace inkling::kernels {
namespace avx512_impl {
using Arch = xsimd::avx512bw;
#include "kernels/simd_x86.inl"
}  // namespace avx512_impl

const KernelTable& avx512_table() {
  static const KernelTable t = avx512_impl::make_table();
  return t;
}

}  // namespace inkling::kernels
