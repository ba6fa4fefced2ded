// Q8_K: the activation partner of the K-quants; super-blocks of 256 int8 quants with an
// f32 scale and the sum of every 16 quants (bsums), through which the weights' mins and
// offsets act.
#pragma once

#include <algorithm>
#include <cmath>

#include "kernels/formats/common.hpp"

namespace inkling::kernels {

#pragma pack(push, 1)
struct BlockQ8_K { float d; std::int8_t qs[kQKK]; std::int16_t bsums[16]; };
#pragma pack(pop)
static_assert(sizeof(BlockQ8_K) == 292);

namespace ref {

static inline void quantize_q8_k(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ8_K*>(out);
  for (std::int64_t i = 0; i < k / kQKK; ++i, x += kQKK) {
    float max = 0, amax = 0;
    for (int j = 0; j < kQKK; ++j)
      if (std::abs(x[j]) > amax) {
        amax = std::abs(x[j]);
        max = x[j];
      }
    if (amax == 0.0f) {
      std::memset(&b[i], 0, sizeof b[i]);
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQKK; ++j)
      b[i].qs[j] = static_cast<std::int8_t>(std::min(127.0f, std::nearbyint(iscale * x[j])));
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int j = 0; j < 16; ++j) s += b[i].qs[16 * g + j];
      b[i].bsums[g] = static_cast<std::int16_t>(s);
    }
    b[i].d = 1.0f / iscale;
  }
}

}  // namespace ref
}  // namespace inkling::kernels
