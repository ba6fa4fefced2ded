// ARM64 kernels for the K-quants (Q2_K .. Q6_K) against Q8_K activations. Part of
// backend.inl's per-level namespace. Each 256-element
// super-block of a weight row is unpacked once, with NEON, into int8 values and 16
// integer scales and mins (one per 16 elements: the 32-element sub-blocks of Q4_K and
// Q5_K repeat theirs), so every format shares one dot product:
//   x = d * scale * q - dmin * min,   dot = d_a * (d * sum scale*q.a - dmin * sum min*bsum).
// |q.a| <= 16 * 32 * 127 per group and |scale| <= 63, so the int32 sums cannot overflow.

struct KUnpack {
  alignas(16) std::int8_t q[kQKK];
  alignas(16) std::int16_t scale[16];
  alignas(16) std::int16_t min[16];
  float d, dmin;
};

// Two bits at `shift` of 32 bytes, for elements l = 0..31.
inline void two_bits(const std::uint8_t* qs, int shift, uint8x16_t& lo, uint8x16_t& hi) {
  const int8x16_t sh = vdupq_n_s8(static_cast<std::int8_t>(-shift));
  const uint8x16_t three = vdupq_n_u8(3);
  lo = vandq_u8(vshlq_u8(vld1q_u8(qs), sh), three);
  hi = vandq_u8(vshlq_u8(vld1q_u8(qs + 16), sh), three);
}

struct FmtQ2_K {
  using Block = BlockQ2_K;
  static constexpr bool kMin = true;
  static void unpack(const Block& b, KUnpack& u) {
    u.d = h2f(b.d);
    u.dmin = h2f(b.dmin);
    const uint8x16_t sc = vld1q_u8(b.scales);
    const uint8x16_t s = vandq_u8(sc, vdupq_n_u8(0xF)), m = vshrq_n_u8(sc, 4);
    vst1q_s16(u.scale, vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(s))));
    vst1q_s16(u.scale + 8, vreinterpretq_s16_u16(vmovl_high_u8(s)));
    vst1q_s16(u.min, vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(m))));
    vst1q_s16(u.min + 8, vreinterpretq_s16_u16(vmovl_high_u8(m)));
    for (int h = 0; h < 2; ++h)
      for (int j = 0; j < 4; ++j) {
        uint8x16_t lo, hi;
        two_bits(b.qs + 32 * h, 2 * j, lo, hi);
        vst1q_s8(u.q + 128 * h + 32 * j, vreinterpretq_s8_u8(lo));
        vst1q_s8(u.q + 128 * h + 32 * j + 16, vreinterpretq_s8_u8(hi));
      }
  }
};

struct FmtQ3_K {
  using Block = BlockQ3_K;
  static constexpr bool kMin = false;
  static void unpack(const Block& b, KUnpack& u) {
    u.d = h2f(b.d);
    u.dmin = 0.0f;
    int sc[16];
    q3_k_scales(b.scales, sc);
    for (int s = 0; s < 16; ++s) u.scale[s] = static_cast<std::int16_t>(sc[s]), u.min[s] = 0;
    const uint8x16_t hm_lo = vld1q_u8(b.hmask), hm_hi = vld1q_u8(b.hmask + 16);
    const int8x16_t four = vdupq_n_s8(4);
    for (int h = 0; h < 2; ++h)
      for (int j = 0; j < 4; ++j) {
        uint8x16_t lo, hi;
        two_bits(b.qs + 32 * h, 2 * j, lo, hi);
        // q - 4 where the hmask bit (4h + j) is clear.
        const uint8x16_t bit = vdupq_n_u8(static_cast<std::uint8_t>(1u << (4 * h + j)));
        const int8x16_t sub_lo = vandq_s8(vreinterpretq_s8_u8(vceqq_u8(vandq_u8(hm_lo, bit), vdupq_n_u8(0))), four);
        const int8x16_t sub_hi = vandq_s8(vreinterpretq_s8_u8(vceqq_u8(vandq_u8(hm_hi, bit), vdupq_n_u8(0))), four);
        vst1q_s8(u.q + 128 * h + 32 * j, vsubq_s8(vreinterpretq_s8_u8(lo), sub_lo));
        vst1q_s8(u.q + 128 * h + 32 * j + 16, vsubq_s8(vreinterpretq_s8_u8(hi), sub_hi));
      }
  }
};

// Q4_K / Q5_K header: 8 sub-blocks of 32 with 6-bit scales and mins, each repeated for
// its two 16-element groups.
template <class Block>
inline void k_header(const Block& b, KUnpack& u) {
  u.d = h2f(b.d);
  u.dmin = h2f(b.dmin);
  for (int j = 0; j < 8; ++j) {
    std::uint8_t sc, m;
    k_scale_min(j, b.scales, sc, m);
    u.scale[2 * j] = u.scale[2 * j + 1] = sc;
    u.min[2 * j] = u.min[2 * j + 1] = m;
  }
}

struct FmtQ4_K {
  using Block = BlockQ4_K;
  static constexpr bool kMin = true;
  static void unpack(const Block& b, KUnpack& u) {
    k_header(b, u);
    const uint8x16_t mask = vdupq_n_u8(0xF);
    for (int c = 0; c < 4; ++c)
      for (int half = 0; half < 2; ++half) {
        const uint8x16_t q = vld1q_u8(b.qs + 32 * c + 16 * half);
        vst1q_s8(u.q + 64 * c + 16 * half, vreinterpretq_s8_u8(vandq_u8(q, mask)));
        vst1q_s8(u.q + 64 * c + 32 + 16 * half, vreinterpretq_s8_u8(vshrq_n_u8(q, 4)));
      }
  }
};

struct FmtQ5_K {
  using Block = BlockQ5_K;
  static constexpr bool kMin = true;
  static void unpack(const Block& b, KUnpack& u) {
    k_header(b, u);
    const uint8x16_t mask = vdupq_n_u8(0xF);
    for (int c = 0; c < 4; ++c)
      for (int half = 0; half < 2; ++half) {
        const uint8x16_t q = vld1q_u8(b.qs + 32 * c + 16 * half);
        const uint8x16_t qh = vld1q_u8(b.qh + 16 * half);
        // Bit 2c of qh[l] is bit 4 of the low-nibble element, bit 2c+1 of the high one.
        const uint8x16_t h_lo = vandq_u8(vshlq_u8(qh, vdupq_n_s8(static_cast<std::int8_t>(4 - 2 * c))), vdupq_n_u8(16));
        const uint8x16_t h_hi = vandq_u8(vshlq_u8(qh, vdupq_n_s8(static_cast<std::int8_t>(3 - 2 * c))), vdupq_n_u8(16));
        vst1q_s8(u.q + 64 * c + 16 * half, vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q, mask), h_lo)));
        vst1q_s8(u.q + 64 * c + 32 + 16 * half, vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q, 4), h_hi)));
      }
  }
};

struct FmtQ6_K {
  using Block = BlockQ6_K;
  static constexpr bool kMin = false;
  static void unpack(const Block& b, KUnpack& u) {
    u.d = h2f(b.d);
    u.dmin = 0.0f;
    const int8x16_t sc = vld1q_s8(b.scales);
    vst1q_s16(u.scale, vmovl_s8(vget_low_s8(sc)));
    vst1q_s16(u.scale + 8, vmovl_high_s8(sc));
    vst1q_s16(u.min, vdupq_n_s16(0));
    vst1q_s16(u.min + 8, vdupq_n_s16(0));
    const uint8x16_t mask = vdupq_n_u8(0xF), three = vdupq_n_u8(3);
    const int8x16_t off = vdupq_n_s8(32);
    for (int h = 0; h < 2; ++h)
      for (int half = 0; half < 2; ++half) {
        const int o = 16 * half;
        const uint8x16_t l0 = vld1q_u8(b.ql + 64 * h + o), l1 = vld1q_u8(b.ql + 64 * h + 32 + o);
        const uint8x16_t qh = vld1q_u8(b.qh + 32 * h + o);
        const uint8x16_t v[4] = {
            vorrq_u8(vandq_u8(l0, mask), vshlq_n_u8(vandq_u8(qh, three), 4)),
            vorrq_u8(vandq_u8(l1, mask), vshlq_n_u8(vandq_u8(vshrq_n_u8(qh, 2), three), 4)),
            vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(qh, 4), three), 4)),
            vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(qh, 6), 4))};
        for (int p = 0; p < 4; ++p) vst1q_s8(u.q + 128 * h + 32 * p + o, vsubq_s8(vreinterpretq_s8_u8(v[p]), off));
      }
  }
};

// sum over the 16 groups of min * bsum (the activations' per-16 sums).
inline std::int32_t mins_dot(const KUnpack& u, const BlockQ8_K& a) {
  const int16x8_t b0 = vld1q_s16(a.bsums), b1 = vld1q_s16(a.bsums + 8);
  const int16x8_t m0 = vld1q_s16(u.min), m1 = vld1q_s16(u.min + 8);
  int32x4_t s = vmull_s16(vget_low_s16(m0), vget_low_s16(b0));
  s = vmlal_high_s16(s, m0, b0);
  s = vmlal_s16(s, vget_low_s16(m1), vget_low_s16(b1));
  s = vmlal_high_s16(s, m1, b1);
  return vaddvq_s32(s);
}

// sum over the 16 groups of scale * (q . a).
inline std::int32_t scaled_dot(const KUnpack& u, const BlockQ8_K& a) {
  int32x4_t acc = vdupq_n_s32(0);
  for (int g = 0; g < 16; ++g) {
    const int32x4_t s = dot_s8(vdupq_n_s32(0), vld1q_s8(u.q + 16 * g), vld1q_s8(a.qs + 16 * g));
    acc = vmlaq_n_s32(acc, s, u.scale[g]);
  }
  return vaddvq_s32(acc);
}

template <class F, int R, int T>
void k_tile(std::int64_t k, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row, float* y,
            std::int64_t ldy) {
  using Block = typename F::Block;
  const std::int64_t nb = k / kQKK;
  float acc[R][T] = {};
  KUnpack u[R];
  for (std::int64_t i = 0; i < nb; ++i) {
    for (int r = 0; r < R; ++r)
      F::unpack(reinterpret_cast<const Block*>(w + w_row * static_cast<std::size_t>(r))[i], u[r]);
    for (int t = 0; t < T; ++t) {
      const BlockQ8_K& b = reinterpret_cast<const BlockQ8_K*>(a + a_row * static_cast<std::size_t>(t))[i];
      for (int r = 0; r < R; ++r) {
        float v = u[r].d * static_cast<float>(scaled_dot(u[r], b));
        if constexpr (F::kMin) v -= u[r].dmin * static_cast<float>(mins_dot(u[r], b));
        acc[r][t] += b.d * v;
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) y[t * ldy + r] = acc[r][t];
}

// Two rows x 2*TP tokens with SMMLA (dot2x2; the other levels run it too, for the same
// floats): per 16-element group, the four int32 dots [r0.t0, r0.t1, r1.t0, r1.t1],
// scaled by [s0, s0, s1, s1].
template <class F, int TP>
void k_tile_mmla(std::int64_t k, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                 float* y, std::int64_t ldy) {
  using Block = typename F::Block;
  const std::int64_t nb = k / kQKK;
  float32x4_t acc[TP];
  for (int p = 0; p < TP; ++p) acc[p] = vdupq_n_f32(0.0f);
  KUnpack u0, u1;
  for (std::int64_t i = 0; i < nb; ++i) {
    F::unpack(reinterpret_cast<const Block*>(w)[i], u0);
    F::unpack(reinterpret_cast<const Block*>(w + w_row)[i], u1);
    for (int p = 0; p < TP; ++p) {
      const BlockQ8_K& b0 = reinterpret_cast<const BlockQ8_K*>(a + a_row * static_cast<std::size_t>(2 * p))[i];
      const BlockQ8_K& b1 = reinterpret_cast<const BlockQ8_K*>(a + a_row * static_cast<std::size_t>(2 * p + 1))[i];
      int32x4_t sum = vdupq_n_s32(0);
      for (int g = 0; g < 16; ++g) {
        const int32x4_t s = dot2x2(vdupq_n_s32(0), vld1q_s8(u0.q + 16 * g), vld1q_s8(u1.q + 16 * g),
                                   vld1q_s8(b0.qs + 16 * g), vld1q_s8(b1.qs + 16 * g));
        const std::int32_t sc[4] = {u0.scale[g], u0.scale[g], u1.scale[g], u1.scale[g]};
        sum = vmlaq_s32(sum, s, vld1q_s32(sc));
      }
      const float d[4] = {u0.d * b0.d, u0.d * b1.d, u1.d * b0.d, u1.d * b1.d};
      float32x4_t v = vmulq_f32(vcvtq_f32_s32(sum), vld1q_f32(d));
      if constexpr (F::kMin) {
        const float m[4] = {u0.dmin * b0.d * static_cast<float>(mins_dot(u0, b0)),
                            u0.dmin * b1.d * static_cast<float>(mins_dot(u0, b1)),
                            u1.dmin * b0.d * static_cast<float>(mins_dot(u1, b0)),
                            u1.dmin * b1.d * static_cast<float>(mins_dot(u1, b1))};
        v = vsubq_f32(v, vld1q_f32(m));
      }
      acc[p] = vaddq_f32(acc[p], v);
    }
  }
  for (int p = 0; p < TP; ++p) {
    float out[4];
    vst1q_f32(out, acc[p]);
    y[(2 * p) * ldy] = out[0];
    y[(2 * p + 1) * ldy] = out[1];
    y[(2 * p) * ldy + 1] = out[2];
    y[(2 * p + 1) * ldy + 1] = out[3];
  }
}

template <class F>
struct KTile {
  template <int R, int T>
  struct Of {
    static void run(std::int64_t k, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                    float* y, std::int64_t ldy) {
      if constexpr (R == 2 && T % 2 == 0) return k_tile_mmla<F, T / 2>(k, w, w_row, a, a_row, y, ldy);
      k_tile<F, R, T>(k, w, w_row, a, a_row, y, ldy);
    }
  };
};

template <class F>
float k_dot(std::int64_t k, const void* w, const void* a) {
  float y = 0.0f;
  k_tile<F, 1, 1>(k, static_cast<const std::byte*>(w), 0, static_cast<const std::byte*>(a), 0, &y, 1);
  return y;
}

template <class F>
void k_gemm(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a, std::size_t a_row,
            int tokens, float* y, std::int64_t ldy, std::byte* /*scratch*/) {
  tiled<2, 4, KTile<F>::template Of>(k, w, w_row, rows, a, a_row, tokens, y, ldy);
}

template <class F>
void install_k_format(KernelTable& t, DType type) {
  WeightKernels& e = t.at(type);  // activations: Q8_K, quantized by the reference
  e.vec_dot = k_dot<F>;
  e.gemm = k_gemm<F>;
  e.gemm_scratch = nullptr;
}

void install_k_quants(KernelTable& t) {
  install_k_format<FmtQ2_K>(t, DType::Q2_K);
  install_k_format<FmtQ3_K>(t, DType::Q3_K);
  install_k_format<FmtQ4_K>(t, DType::Q4_K);
  install_k_format<FmtQ5_K>(t, DType::Q5_K);
  install_k_format<FmtQ6_K>(t, DType::Q6_K);
}
