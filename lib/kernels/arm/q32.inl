// ARM64 kernels for the 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) against
// Q8_0 / Q8_1 activations. Part of backend.inl's per-level namespace. Each weight block is unpacked to 32 int8 values once and multiplied with every
// token of the tile.

// A weight block as int8: elements 0-15 in lo, 16-31 in hi; x = d * q + m.
struct Q32 {
  int8x16_t lo, hi;
  float d, m;
};

// Bit j of the 32-bit qh field of a Q5 block, as 16 (or 0) in byte j.
inline void q5_high(const std::uint8_t* qh, uint8x16_t& lo, uint8x16_t& hi) {
  static const std::uint8_t kBits[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t bits = vld1q_u8(kBits);
  const uint8x16_t sixteen = vdupq_n_u8(16);
  lo = vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1])), bits), sixteen);
  hi = vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3])), bits), sixteen);
}

struct FmtQ4_0 {
  using Block = BlockQ4_0;
  using Act = BlockQ8_0;
  static constexpr bool kMin = false;
  static Q32 unpack(const Block& b) {
    const uint8x16_t q = vld1q_u8(b.qs);
    const int8x16_t eight = vdupq_n_s8(8);
    return {vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0xF))), eight),
            vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight), h2f(b.d), 0.0f};
  }
};

struct FmtQ4_1 {
  using Block = BlockQ4_1;
  using Act = BlockQ8_1;
  static constexpr bool kMin = true;
  static Q32 unpack(const Block& b) {
    const uint8x16_t q = vld1q_u8(b.qs);
    return {vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0xF))), vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), h2f(b.d),
            h2f(b.m)};
  }
};

struct FmtQ5_0 {
  using Block = BlockQ5_0;
  using Act = BlockQ8_0;
  static constexpr bool kMin = false;
  static Q32 unpack(const Block& b) {
    uint8x16_t hl, hh;
    q5_high(b.qh, hl, hh);
    const uint8x16_t q = vld1q_u8(b.qs);
    const int8x16_t sixteen = vdupq_n_s8(16);
    return {vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q, vdupq_n_u8(0xF)), hl)), sixteen),
            vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q, 4), hh)), sixteen), h2f(b.d), 0.0f};
  }
};

struct FmtQ5_1 {
  using Block = BlockQ5_1;
  using Act = BlockQ8_1;
  static constexpr bool kMin = true;
  static Q32 unpack(const Block& b) {
    uint8x16_t hl, hh;
    q5_high(b.qh, hl, hh);
    const uint8x16_t q = vld1q_u8(b.qs);
    return {vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q, vdupq_n_u8(0xF)), hl)),
            vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q, 4), hh)), h2f(b.d), h2f(b.m)};
  }
};

struct FmtQ8_0 {
  using Block = BlockQ8_0;
  using Act = BlockQ8_0;
  static constexpr bool kMin = false;
  static Q32 unpack(const Block& b) { return {vld1q_s8(b.qs), vld1q_s8(b.qs + 16), h2f(b.d), 0.0f}; }
};

// The min term's activation factor: Q8_1 carries d * sum(qs) as s.
template <class Act>
inline float act_sum(const Act& a) {
  if constexpr (std::is_same_v<Act, BlockQ8_1>) return h2f(a.s);
  else return 0.0f;
}

// R weight rows x T tokens with SDOT (or SMULL + SADALP): per block, each row's int8
// values meet each token's, and the int32 sums are scaled into float accumulators.
template <class F, int R, int T>
void q32_tile(std::int64_t k, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row, float* y,
              std::int64_t ldy) {
  using Block = typename F::Block;
  using Act = typename F::Act;
  const std::int64_t nb = k / kQK;
  const Block* wr[R];
  const Act* ar[T];
  for (int r = 0; r < R; ++r) wr[r] = reinterpret_cast<const Block*>(w + w_row * static_cast<std::size_t>(r));
  for (int t = 0; t < T; ++t) ar[t] = reinterpret_cast<const Act*>(a + a_row * static_cast<std::size_t>(t));
  float32x4_t acc[R][T];
  float mins[R][T] = {};
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = vdupq_n_f32(0.0f);
  for (std::int64_t i = 0; i < nb; ++i) {
    Q32 q[R];
    for (int r = 0; r < R; ++r) q[r] = F::unpack(wr[r][i]);
    for (int t = 0; t < T; ++t) {
      const Act& b = ar[t][i];
      const int8x16_t a0 = vld1q_s8(b.qs), a1 = vld1q_s8(b.qs + 16);
      const float da = h2f(b.d);
      for (int r = 0; r < R; ++r) {
        const int32x4_t s = dot_s8(dot_s8(vdupq_n_s32(0), q[r].lo, a0), q[r].hi, a1);
        acc[r][t] = vfmaq_n_f32(acc[r][t], vcvtq_f32_s32(s), q[r].d * da);
        if constexpr (F::kMin) mins[r][t] += q[r].m * act_sum(b);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) y[t * ldy + r] = vaddvq_f32(acc[r][t]) + mins[r][t];
}

// Two weight rows x 2*TP tokens with SMMLA (dot2x2): one instruction multiplies an
// 8-element slice of both rows with the same slice of two tokens, giving the four int32
// dots [r0.t0, r0.t1, r1.t0, r1.t1]. The levels without i8mm run it too (dot2x2 from
// SDOT or SMULL), so a prefill tile's floats are the same at every level.
template <class F, int TP>
void q32_tile_mmla(std::int64_t k, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                   float* y, std::int64_t ldy) {
  using Block = typename F::Block;
  using Act = typename F::Act;
  const std::int64_t nb = k / kQK;
  const Block* w0 = reinterpret_cast<const Block*>(w);
  const Block* w1 = reinterpret_cast<const Block*>(w + w_row);
  const Act* ar[2 * TP];
  for (int t = 0; t < 2 * TP; ++t) ar[t] = reinterpret_cast<const Act*>(a + a_row * static_cast<std::size_t>(t));
  float32x4_t acc[TP];
  float32x4_t mins[TP];
  for (int p = 0; p < TP; ++p) acc[p] = mins[p] = vdupq_n_f32(0.0f);
  for (std::int64_t i = 0; i < nb; ++i) {
    const Q32 q0 = F::unpack(w0[i]), q1 = F::unpack(w1[i]);
    for (int p = 0; p < TP; ++p) {
      const Act& b0 = ar[2 * p][i];
      const Act& b1 = ar[2 * p + 1][i];
      int32x4_t s = dot2x2(vdupq_n_s32(0), q0.lo, q1.lo, vld1q_s8(b0.qs), vld1q_s8(b1.qs));
      s = dot2x2(s, q0.hi, q1.hi, vld1q_s8(b0.qs + 16), vld1q_s8(b1.qs + 16));
      const float da0 = h2f(b0.d), da1 = h2f(b1.d);
      const float scale[4] = {q0.d * da0, q0.d * da1, q1.d * da0, q1.d * da1};
      acc[p] = vfmaq_f32(acc[p], vcvtq_f32_s32(s), vld1q_f32(scale));
      if constexpr (F::kMin) {
        const float s0 = act_sum(b0), s1 = act_sum(b1);
        const float m[4] = {q0.m * s0, q0.m * s1, q1.m * s0, q1.m * s1};
        mins[p] = vaddq_f32(mins[p], vld1q_f32(m));
      }
    }
  }
  for (int p = 0; p < TP; ++p) {
    float out[4];
    vst1q_f32(out, vaddq_f32(acc[p], mins[p]));
    y[(2 * p) * ldy] = out[0];
    y[(2 * p + 1) * ldy] = out[1];
    y[(2 * p) * ldy + 1] = out[2];
    y[(2 * p + 1) * ldy + 1] = out[3];
  }
}

template <class F>
struct Q32Tile {
  template <int R, int T>
  struct Of {
    static void run(std::int64_t k, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                    float* y, std::int64_t ldy) {
      if constexpr (R == 2 && T % 2 == 0) return q32_tile_mmla<F, T / 2>(k, w, w_row, a, a_row, y, ldy);
      q32_tile<F, R, T>(k, w, w_row, a, a_row, y, ldy);
    }
  };
};

template <class F>
float q32_dot(std::int64_t k, const void* w, const void* a) {
  float y = 0.0f;
  q32_tile<F, 1, 1>(k, static_cast<const std::byte*>(w), 0, static_cast<const std::byte*>(a), 0, &y, 1);
  return y;
}

template <class F>
void q32_gemm(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a, std::size_t a_row,
              int tokens, float* y, std::int64_t ldy, std::byte* /*scratch*/) {
  tiled<2, 4, Q32Tile<F>::template Of>(k, w, w_row, rows, a, a_row, tokens, y, ldy);
}

// Activations to Q8_0 as ref::quantize_q8_0 does it, byte for byte: multiplier
// 127 / amax, round half to even (FCVTNS).
void quantize_q8_0(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ8_0*>(out);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    float32x4_t v[8];
    float32x4_t amax = vdupq_n_f32(0.0f);
    for (int j = 0; j < 8; ++j) {
      v[j] = vld1q_f32(x + 4 * j);
      amax = vmaxq_f32(amax, vabsq_f32(v[j]));
    }
    const float am = vmaxvq_f32(amax);
    const float d = am / 127.0f;
    const float id = am != 0.0f ? 127.0f / am : 0.0f;
    b[i].d = f32_to_fp16(d);
    for (int j = 0; j < 8; j += 2) {
      const int32x4_t q0 = vcvtnq_s32_f32(vmulq_n_f32(v[j], id));
      const int32x4_t q1 = vcvtnq_s32_f32(vmulq_n_f32(v[j + 1], id));
      const int16x8_t q16 = vcombine_s16(vmovn_s32(q0), vmovn_s32(q1));
      vst1_s8(b[i].qs + 4 * j, vmovn_s16(q16));
    }
  }
}

template <class F>
void install_q32_format(KernelTable& t, DType type) {
  WeightKernels& e = t.at(type);
  e.vec_dot = q32_dot<F>;
  e.gemm = q32_gemm<F>;
  e.gemm_scratch = nullptr;
  if (e.activation_type == DType::Q8_0) e.quantize = quantize_q8_0;
}

void install_q32(KernelTable& t) {
  install_q32_format<FmtQ4_0>(t, DType::Q4_0);
  install_q32_format<FmtQ4_1>(t, DType::Q4_1);
  install_q32_format<FmtQ5_0>(t, DType::Q5_0);
  install_q32_format<FmtQ5_1>(t, DType::Q5_1);
  install_q32_format<FmtQ8_0>(t, DType::Q8_0);
}
