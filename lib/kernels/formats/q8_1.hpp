// Q8_1: the activation partner of Q4_1 and Q5_1 weights; Q8_0 plus s = d * sum(qs),
// which carries the weights' offset m through the dot product.
#pragma once

#include <algorithm>
#include <cmath>

#include "kernels/formats/common.hpp"

namespace inkling::kernels {

#pragma pack(push, 1)
struct BlockQ8_1 { std::uint16_t d, s; std::int8_t qs[kQK]; };
#pragma pack(pop)
static_assert(sizeof(BlockQ8_1) == 36);

namespace ref {

static inline void quantize_q8_1(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ8_1*>(out);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::abs(x[j]));
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    b[i].d = f32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      b[i].qs[j] = static_cast<std::int8_t>(std::nearbyint(x[j] * id));
      sum += b[i].qs[j];
    }
    b[i].s = f32_to_fp16(d * static_cast<float>(sum));
  }
}

}  // namespace ref
}  // namespace inkling::kernels
