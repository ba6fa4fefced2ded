// AVX2 + FMA + F16C kernels (this file is compiled with those flags only).
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "kernels/formats/all.hpp"
#include "kernels/kernel_table.hpp"

namespace inkling::kernels {
namespace avx2_impl {
using Arch = xsimd::avx2;
#include "kernels/x86/backend.inl"
}  // namespace avx2_impl

const KernelTable& avx2_table() {
  static const KernelTable t = avx2_impl::make_table();
  return t;
}

}  // namespace inkling::kernels
