// Plain ARMv8.0 Advanced SIMD kernels (this file is compiled for ARMv8-A only).
#include <arm_neon.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/formats/all.hpp"
#include "kernels/kernel_table.hpp"

namespace inkling::kernels {
namespace neon_impl {
#include "kernels/arm/backend.inl"
}  // namespace neon_impl

const KernelTable& neon_table() {
  static const KernelTable t = neon_impl::make_table();
  return t;
}

}  // namespace inkling::kernels
