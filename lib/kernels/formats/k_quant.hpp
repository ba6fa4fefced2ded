// What the K-quant formats (Q2_K..Q6_K) share: super-blocks of 256 weights whose
// reference kernels unpack to integer quants plus, per sub-block of `sub` elements, an
// integer scale and min: x = d * scale * q - dmin * min. Dequantization and the
// reference dot product share these unpackers, so they cannot disagree. Activations of
// every K-quant are Q8_K.
#pragma once

#include "kernels/formats/q8_k.hpp"

namespace inkling::kernels {

struct KUnpacked {
  int q[kQKK];
  int scale[16];
  int min[16];
  float d, dmin;
  int sub;  // elements per sub-block
};

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

namespace ref {

template <typename Block, void (*Unpack)(const Block&, KUnpacked&)>
static void dequantize_k(const void* src, float* y, std::int64_t n) {
  const auto* b = static_cast<const Block*>(src);
  KUnpacked u;
  for (std::int64_t i = 0; i < n / kQKK; ++i, y += kQKK) {
    Unpack(b[i], u);
    for (int e = 0; e < kQKK; ++e) {
      const int s = e / u.sub;
      y[e] = u.d * static_cast<float>(u.scale[s]) * static_cast<float>(u.q[e]) - u.dmin * static_cast<float>(u.min[s]);
    }
  }
}

// d_a * (d_w * sum_s scale_s * sum q*a  -  dmin_w * sum_s min_s * sum a), per super-block.
template <typename Block, void (*Unpack)(const Block&, KUnpacked&)>
static float vec_dot_k(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const Block*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  KUnpacked u;
  float sum = 0;
  for (std::int64_t i = 0; i < k / kQKK; ++i) {
    Unpack(x[i], u);
    int scaled = 0, mins = 0;
    for (int s = 0; s < kQKK / u.sub; ++s) {
      int qa = 0, asum = 0;
      for (int e = s * u.sub; e < (s + 1) * u.sub; ++e) {
        qa += u.q[e] * y[i].qs[e];
        asum += y[i].qs[e];
      }
      scaled += u.scale[s] * qa;
      mins += u.min[s] * asum;
    }
    sum += y[i].d * (u.d * static_cast<float>(scaled) - u.dmin * static_cast<float>(mins));
  }
  return sum;
}

}  // namespace ref

// The reference entry of a K-quant with block type Block and unpacker Unpack.
template <typename Block, void (*Unpack)(const Block&, KUnpacked&)>
static WeightKernels k_quant_reference() {
  WeightKernels k;
  k.activation_type = DType::Q8_K;
  k.quantize = ref::quantize_q8_k;
  k.vec_dot = ref::vec_dot_k<Block, Unpack>;
  k.dequantize = ref::dequantize_k<Block, Unpack>;
  return k;
}

}  // namespace inkling::kernels
