// IEEE half and bfloat16 conversions, exact and portable (no ISA required).
// `static`: each translation unit keeps its own copy, so a copy compiled with AVX-512
// flags is never shared with code that must run on a lesser CPU.
#pragma once

#include <bit>
#include <cstdint>

namespace inkling::kernels {

static inline float fp16_to_f32(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1F;
  std::uint32_t mant = h & 0x3FF;
  std::uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000 | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;  // zero
  } else {
    // Subnormal: normalise the mantissa.
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400) == 0);
    bits = sign | static_cast<std::uint32_t>(112 - e) << 23 | ((mant & 0x3FF) << 13);
  }
  return std::bit_cast<float>(bits);
}

// Round to nearest even, with overflow to infinity and subnormal results.
static inline std::uint16_t f32_to_fp16(float f) noexcept {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = (x >> 16) & 0x8000;
  const std::uint32_t abs = x & 0x7FFFFFFF;
  if (abs > 0x7F800000) return static_cast<std::uint16_t>(sign | 0x7E00 | ((abs >> 13) & 0x3FF));  // nan
  if (abs >= 0x477FF000) return static_cast<std::uint16_t>(sign | 0x7C00);  // overflow -> inf
  if (abs >= 0x38800000) {  // normal half
    const std::uint32_t rounded = abs + 0xFFF + ((abs >> 13) & 1);
    return static_cast<std::uint16_t>(sign | ((rounded - 0x38000000) >> 13));
  }
  if (abs < 0x33000000) return static_cast<std::uint16_t>(sign);  // below half the smallest subnormal
  // Subnormal half: shift the full mantissa, rounding to nearest even.
  const std::uint32_t e = abs >> 23;
  const std::uint32_t m = (abs & 0x7FFFFF) | 0x800000;
  const std::uint32_t shift = 126 - e;  // 14..24
  std::uint32_t q = m >> shift;
  const std::uint32_t rem = m & ((1u << shift) - 1);
  const std::uint32_t halfway = 1u << (shift - 1);
  if (rem > halfway || (rem == halfway && (q & 1))) ++q;
  return static_cast<std::uint16_t>(sign | q);
}

static inline float bf16_to_f32(std::uint16_t h) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

// As ggml: NaN forced quiet, otherwise round to nearest even (no subnormal flush).
static inline std::uint16_t f32_to_bf16(float f) noexcept {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7FFFFFFF) > 0x7F800000) return static_cast<std::uint16_t>((x >> 16) | 0x40);
  return static_cast<std::uint16_t>((x + 0x7FFF + ((x >> 16) & 1)) >> 16);
}

}  // namespace inkling::kernels
