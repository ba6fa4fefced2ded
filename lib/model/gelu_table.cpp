#include "model/gelu_table.hpp"

#include "kernels/fp16.hpp"
#include "model/layers.hpp"

namespace inkling::detail {

GeluTable::GeluTable() {
  for (std::uint32_t h = 0; h < (1u << 16); ++h) values_[h] = gelu(kernels::fp16_to_f32(static_cast<std::uint16_t>(h)));
}

void GeluTable::apply(float* x, std::int64_t n) const noexcept {
  for (std::int64_t i = 0; i < n; ++i) {
    // Outside (-10, 10) detail::gelu is exact (0 or x), as ggml's is.
    if (x[i] <= -10.0f) x[i] = 0.0f;
    else if (x[i] < 10.0f) x[i] = values_[kernels::f32_to_fp16(x[i])];
  }
}

const GeluTable& gelu_table() {
  static const GeluTable table;
  return table;
}

}  // namespace inkling::detail
