// ARMv8.2 dot-product (SDOT) kernels (this file is compiled with +dotprod only).
#include <arm_neon.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/formats/all.hpp"
#include "kernels/kernel_table.hpp"

namespace inkling::kernels {
namespace dotprod_impl {
#include "kernels/arm/backend.inl"
}  // namespace dotprod_impl

const KernelTable& dotprod_table() {
  static const KernelTable t = dotprod_impl::make_table();
  return t;
}

}  // namespace inkling::kernels
