// AVX-512 (F, BW, DQ, VL, VNNI) kernels (this file is compiled with those flags only).
// Int8 dot products use VNNI's vpdpbusd; float code uses 512-bit xsimd batches.
// GCC 12 reports the deliberately undefined upper halves inside its own 512-bit
// broadcast/insert/extract intrinsics as uninitialized reads once they are inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "kernels/formats/all.hpp"
#include "kernels/kernel_table.hpp"

namespace inkling::kernels {
namespace avx512_impl {
using Arch = xsimd::avx512bw;
#include "kernels/x86/backend.inl"
}  // namespace avx512_impl

const KernelTable& avx512_table() {
  static const KernelTable t = avx512_impl::make_table();
  return t;
}

}  // namespace inkling::kernels
