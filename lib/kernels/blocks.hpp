// Block layouts of the quantized types, in one place (REFERENCE.md §2). Every field is
// little-endian as stored in GGUF; `d`/`dmin`/`m` are IEEE halves.
#pragma once

#include <cstdint>

namespace inkling::kernels {

inline constexpr int kQK = 32;    // elements per block of the simple types
inline constexpr int kQKK = 256;  // elements per K-quant super-block

#pragma pack(push, 1)
struct BlockQ4_0 { std::uint16_t d; std::uint8_t qs[kQK / 2]; };
struct BlockQ4_1 { std::uint16_t d, m; std::uint8_t qs[kQK / 2]; };
struct BlockQ5_0 { std::uint16_t d; std::uint8_t qh[4]; std::uint8_t qs[kQK / 2]; };
struct BlockQ5_1 { std::uint16_t d, m; std::uint8_t qh[4]; std::uint8_t qs[kQK / 2]; };
struct BlockQ8_0 { std::uint16_t d; std::int8_t qs[kQK]; };
struct BlockQ8_1 { std::uint16_t d, s; std::int8_t qs[kQK]; };  // s = d * sum(qs)
struct BlockQ2_K { std::uint8_t scales[16]; std::uint8_t qs[64]; std::uint16_t d, dmin; };
struct BlockQ3_K { std::uint8_t hmask[32]; std::uint8_t qs[64]; std::uint8_t scales[12]; std::uint16_t d; };
struct BlockQ4_K { std::uint16_t d, dmin; std::uint8_t scales[12]; std::uint8_t qs[128]; };
struct BlockQ5_K { std::uint16_t d, dmin; std::uint8_t scales[12]; std::uint8_t qh[32]; std::uint8_t qs[128]; };
struct BlockQ6_K { std::uint8_t ql[128]; std::uint8_t qh[64]; std::int8_t scales[16]; std::uint16_t d; };
struct BlockQ8_K { float d; std::int8_t qs[kQKK]; std::int16_t bsums[16]; };
#pragma pack(pop)

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K super-block.
static inline void k_scale_min(int j, const std::uint8_t* q, std::uint8_t& sc, std::uint8_t& m) noexcept {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = static_cast<std::uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = static_cast<std::uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

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

}  // namespace inkling::kernels
