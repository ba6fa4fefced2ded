// Q3_K: 3-bit quants as Q2_K's two low bits plus a high bit in hmask (q = q2 - 4 unless
// the bit is set); 16 signed 6-bit sub-block scales, no mins.
#pragma once

#include "kernels/formats/k_quant.hpp"

namespace inkling::kernels {

#pragma pack(push, 1)
struct BlockQ3_K { std::uint8_t hmask[32]; std::uint8_t qs[64]; std::uint8_t scales[12]; std::uint16_t d; };
#pragma pack(pop)
static_assert(sizeof(BlockQ3_K) == 110);

// The 16 signed 6-bit sub-block scales of a Q3_K super-block (-32..31): low nibbles in
// bytes 0-7, the two high bits of each in bytes 8-11.
static inline void q3_k_scales(const std::uint8_t* s, int out[16]) noexcept {
  for (int k = 0; k < 4; ++k) {
    out[k] = ((s[k] & 0xF) | (((s[8 + k] >> 0) & 3) << 4)) - 32;
    out[4 + k] = ((s[4 + k] & 0xF) | (((s[8 + k] >> 2) & 3) << 4)) - 32;
    out[8 + k] = ((s[k] >> 4) | (((s[8 + k] >> 4) & 3) << 4)) - 32;
    out[12 + k] = ((s[4 + k] >> 4) | (((s[8 + k] >> 6) & 3) << 4)) - 32;
  }
}

namespace ref {

static inline void unpack_q3_k(const BlockQ3_K& b, KUnpacked& u) {
  u.d = fp16_to_f32(b.d);
  u.dmin = 0;
  u.sub = 16;
  q3_k_scales(b.scales, u.scale);
  for (int k = 0; k < 16; ++k) u.min[k] = 0;
  for (int e = 0; e < kQKK; ++e) {
    const int h = e / 128, r = e % 128, j = r / 32, l = r % 32;
    const int q2 = (b.qs[32 * h + l] >> (2 * j)) & 3;
    const bool high = (b.hmask[l] >> (4 * h + j)) & 1;
    u.q[e] = high ? q2 : q2 - 4;
  }
}

}  // namespace ref

static inline WeightKernels q3_k_reference() { return k_quant_reference<BlockQ3_K, ref::unpack_q3_k>(); }

}  // namespace inkling::kernels
