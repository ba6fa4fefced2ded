// Q6_K: 6-bit quants with offset 32 (low 4 bits in ql, top 2 in qh) and 16 int8 scales
// per super-block, one per 16 elements; no mins.
#pragma once

#include "kernels/formats/k_quant.hpp"

namespace inkling::kernels {

#pragma pack(push, 1)
struct BlockQ6_K { std::uint8_t ql[128]; std::uint8_t qh[64]; std::int8_t scales[16]; std::uint16_t d; };
#pragma pack(pop)
static_assert(sizeof(BlockQ6_K) == 210);

namespace ref {

static inline void unpack_q6_k(const BlockQ6_K& b, KUnpacked& u) {
  u.d = fp16_to_f32(b.d);
  u.dmin = 0;
  u.sub = 16;
  for (int s = 0; s < 16; ++s) {
    u.scale[s] = b.scales[s];
    u.min[s] = 0;
  }
  for (int h = 0; h < 2; ++h) {
    const std::uint8_t* ql = b.ql + 64 * h;
    const std::uint8_t* qh = b.qh + 32 * h;
    int* q = u.q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      q[l] = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      q[l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      q[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      q[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
    }
  }
}

}  // namespace ref

static inline WeightKernels q6_k_reference() { return k_quant_reference<BlockQ6_K, ref::unpack_q6_k>(); }

}  // namespace inkling::kernels
