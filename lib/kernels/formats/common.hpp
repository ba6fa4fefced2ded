// What the format headers share. Every function in a format header is `static inline`:
// the x86 backends include these headers in files compiled with AVX flags, and internal
// linkage keeps such a copy from standing in for the scalar one elsewhere (as fp16.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/fp16.hpp"
#include "kernels/kernel_table.hpp"

namespace inkling::kernels {

inline constexpr int kQK = 32;    // elements per block of the simple types
inline constexpr int kQKK = 256;  // elements per K-quant super-block

namespace ref {

static inline std::uint32_t load_u32(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace ref
}  // namespace inkling::kernels
