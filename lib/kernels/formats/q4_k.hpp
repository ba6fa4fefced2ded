// Q4_K: 4-bit quants; 8 sub-blocks of 32 with 6-bit scales and mins (k_scale_min).
// 32 bytes of qs hold elements 64c..64c+31 in their low nibbles, 64c+32.. in the high.
#pragma once

#include "kernels/formats/k_quant.hpp"

namespace inkling::kernels {

#pragma pack(push, 1)
struct BlockQ4_K { std::uint16_t d, dmin; std::uint8_t scales[12]; std::uint8_t qs[128]; };
#pragma pack(pop)
static_assert(sizeof(BlockQ4_K) == 144);

namespace ref {

// Q4_K and Q5_K share their header: d, dmin and 8 sub-blocks of 32 with 6-bit scales/mins.
template <typename Block>
static void unpack_k_header(const Block& b, KUnpacked& u) {
  u.d = fp16_to_f32(b.d);
  u.dmin = fp16_to_f32(b.dmin);
  u.sub = 32;
  for (int j = 0; j < 8; ++j) {
    std::uint8_t sc, m;
    k_scale_min(j, b.scales, sc, m);
    u.scale[j] = sc;
    u.min[j] = m;
  }
}

static inline void unpack_q4_k(const BlockQ4_K& b, KUnpacked& u) {
  unpack_k_header(b, u);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      u.q[64 * c + l] = b.qs[32 * c + l] & 0xF;
      u.q[64 * c + 32 + l] = b.qs[32 * c + l] >> 4;
    }
}

}  // namespace ref

static inline WeightKernels q4_k_reference() { return k_quant_reference<BlockQ4_K, ref::unpack_q4_k>(); }

}  // namespace inkling::kernels
