// Q2_K: 2-bit quants; 16 sub-blocks of 16 with a 4-bit scale (low nibble) and a 4-bit
// min (high nibble). Element e = 128h + 32j + l takes bits 2j..2j+1 of qs[32h + l].
#pragma once

#include "kernels/formats/k_quant.hpp"

namespace inkling::kernels {

#pragma pack(push, 1)
struct BlockQ2_K { std::uint8_t scales[16]; std::uint8_t qs[64]; std::uint16_t d, dmin; };
#pragma pack(pop)
static_assert(sizeof(BlockQ2_K) == 84);

namespace ref {

static inline void unpack_q2_k(const BlockQ2_K& b, KUnpacked& u) {
  u.d = fp16_to_f32(b.d);
  u.dmin = fp16_to_f32(b.dmin);
  u.sub = 16;
  for (int s = 0; s < 16; ++s) {
    u.scale[s] = b.scales[s] & 0xF;
    u.min[s] = b.scales[s] >> 4;
  }
  for (int e = 0; e < kQKK; ++e) {
    const int h = e / 128, r = e % 128, j = r / 32, l = r % 32;
    u.q[e] = (b.qs[32 * h + l] >> (2 * j)) & 3;
  }
}

}  // namespace ref

static inline WeightKernels q2_k_reference() { return k_quant_reference<BlockQ2_K, ref::unpack_q2_k>(); }

}  // namespace inkling::kernels
