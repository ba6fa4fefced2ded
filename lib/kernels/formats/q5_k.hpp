// Q5_K: Q4_K plus a fifth bit per element: bit 2c / 2c+1 of qh[l] belongs to element
// 64c+l / 64c+32+l.
#pragma once

#include "kernels/formats/q4_k.hpp"

namespace inkling::kernels {

#pragma pack(push, 1)
struct BlockQ5_K { std::uint16_t d, dmin; std::uint8_t scales[12]; std::uint8_t qh[32]; std::uint8_t qs[128]; };
#pragma pack(pop)
static_assert(sizeof(BlockQ5_K) == 176);

namespace ref {

static inline void unpack_q5_k(const BlockQ5_K& b, KUnpacked& u) {
  unpack_k_header(b, u);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      u.q[64 * c + l] = (b.qs[32 * c + l] & 0xF) | (((b.qh[l] >> (2 * c)) & 1) << 4);
      u.q[64 * c + 32 + l] = (b.qs[32 * c + l] >> 4) | (((b.qh[l] >> (2 * c + 1)) & 1) << 4);
    }
}

}  // namespace ref

static inline WeightKernels q5_k_reference() { return k_quant_reference<BlockQ5_K, ref::unpack_q5_k>(); }

}  // namespace inkling::kernels
