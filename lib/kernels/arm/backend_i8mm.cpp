// Int8 matrix-multiply (SMMLA) kernels (this file is compiled with +dotprod+i8mm only).
#include <arm_neon.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/formats/all.hpp"
#include "kernels/kernel_table.hpp"

namespace inkling::kernels {
namespace i8mm_impl {
#include "kernels/arm/backend.inl"
}  // namespace i8mm_impl

const KernelTable& i8mm_table() {
  static const KernelTable t = i8mm_impl::make_table();
  return t;
}

}  // namespace inkling::kernels
