// Encoding f32 rows into a weight type: each format's `encode` (formats/<type>.hpp), for
// the types the file converter writes.
#include "kernels/quantize_row.hpp"

#include <cstdlib>

#include "kernels/kernel_table.hpp"

namespace inkling::kernels {

bool can_encode(DType type) noexcept {
  const WeightKernels* k = scalar_table().for_type(type);
  return k && k->encode;
}

void quantize_row(DType type, const float* src, std::byte* dst, std::int64_t n) {
  const WeightKernels* k = scalar_table().for_type(type);
  if (!k || !k->encode) std::abort();  // callers check can_encode first
  k->encode(src, dst, n);
}

}  // namespace inkling::kernels
