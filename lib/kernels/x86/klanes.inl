// Q4_K and Q6_K in the klanes layout (formats/klanes.hpp), AVX-512 VNNI only: one tile
// for decode (T = 1) and prefill. Per super-block and row the quants are unpacked once
// into four 64-byte vectors (Q4_K: and / shift; Q6_K: plus the top bits from qh) and used
// for every token: four vpdpbusd leave each 16-element sub-block's sum in one lane, the
// scales apply in one lane-wise multiply, and one fma adds the super-block in floats. The
// mins (Q4_K) and the offset 32 (Q6_K) enter through the activations' d * sums, one more
// fma. Rows are independent (no interleaving), so a tile is one row by T tokens: nothing
// on the activation side is worth sharing between rows.
//
// Without VNNI (AVX2) the file's layout is kept: repacking happens only where this
// kernel exists.

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
constexpr int kKLanesTokens = 8;

// Row of nb super-blocks by T tokens. Q6: Q6_K, else Q4_K.
template <bool Q6, int T>
void klanes_tile(std::int64_t nb, const std::byte* w, const std::byte* a, std::size_t a_row, float* y, std::int64_t ldy) {
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i nib = _mm512_set1_epi8(0x0F);
  [[maybe_unused]] const __m512i top2 = _mm512_set1_epi8(0x30);
  for (std::int64_t b = 0; b < nb; ++b) {
    constexpr std::size_t kBlock = Q6 ? sizeof(BlockQ6_K) : sizeof(BlockQ4_K);
    prefetch_ahead<kBlock>(w + kBlock * static_cast<std::size_t>(b));
    __m512i q[4], sc;  // sc: each lane's integer scale
    __m512 off;        // each lane's factor of d * sum(a): dmin * min, or 32 * d * scale
    float dw;
    if constexpr (Q6) {
      const auto* wb = reinterpret_cast<const BlockQ6_K*>(w) + b;
      const __m512i l0 = _mm512_loadu_si512(wb->ql), l1 = _mm512_loadu_si512(wb->ql + 64);
      const __m512i h = _mm512_loadu_si512(wb->qh);
      // (low nibble) | (two bits of h moved to bits 4, 5): ternary logic A | (B & C).
      q[0] = _mm512_ternarylogic_epi32(_mm512_and_si512(l0, nib), _mm512_slli_epi16(h, 4), top2, 0xF8);
      q[1] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(l0, 4), nib), _mm512_slli_epi16(h, 2), top2, 0xF8);
      q[2] = _mm512_ternarylogic_epi32(_mm512_and_si512(l1, nib), h, top2, 0xF8);
      q[3] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(l1, 4), nib), _mm512_srli_epi16(h, 2), top2, 0xF8);
      sc = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wb->scales)));
      dw = h2f(wb->d);
      off = _mm512_mul_ps(_mm512_cvtepi32_ps(sc), _mm512_set1_ps(32.0f * dw));
    } else {
      const auto* wb = reinterpret_cast<const BlockQ4_K*>(w) + b;
      const __m512i v0 = _mm512_loadu_si512(wb->qs), v1 = _mm512_loadu_si512(wb->qs + 64);
      q[0] = _mm512_and_si512(v0, nib);
      q[1] = _mm512_and_si512(_mm512_srli_epi16(v0, 4), nib);
      q[2] = _mm512_and_si512(v1, nib);
      q[3] = _mm512_and_si512(_mm512_srli_epi16(v1, 4), nib);
      std::uint64_t s8, m8;
      k_scales_mins8(wb->scales, s8, m8);
      // Byte l of the doubled vectors is sub-block l / 2's scale (min): lanes 2j, 2j + 1.
      const __m128i s16 = _mm_cvtsi64_si128(static_cast<long long>(s8)), m16 = _mm_cvtsi64_si128(static_cast<long long>(m8));
      sc = _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(s16, s16));
      dw = h2f(wb->d);
      off = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_unpacklo_epi8(m16, m16))), _mm512_set1_ps(h2f(wb->dmin)));
    }
    for (int t = 0; t < T; ++t) {
      const BlockQ8_KL* ab = reinterpret_cast<const BlockQ8_KL*>(a + a_row * static_cast<std::size_t>(t)) + b;
      __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[0], _mm512_loadu_si512(ab->qs));
      p = _mm512_dpbusd_epi32(p, q[1], _mm512_loadu_si512(ab->qs + 64));
      p = _mm512_dpbusd_epi32(p, q[2], _mm512_loadu_si512(ab->qs + 128));
      p = _mm512_dpbusd_epi32(p, q[3], _mm512_loadu_si512(ab->qs + 192));
      // Q4_K: |p| <= 16 * 15 * 127 fits a word, so a word multiply by (scale, 0) is exact.
      const __m512i s = Q6 ? _mm512_mullo_epi32(p, sc) : _mm512_madd_epi16(p, sc);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(dw * ab->d), acc[t]);
      acc[t] = _mm512_fnmadd_ps(off, _mm512_loadu_ps(ab->bsd), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) y[static_cast<std::int64_t>(t) * ldy] = _mm512_reduce_add_ps(acc[t]);
}

template <bool Q6, int T>
void klanes_token_tail(int n, std::int64_t nb, const std::byte* w, const std::byte* a, std::size_t a_row, float* y,
                       std::int64_t ldy) {
  if constexpr (T > 0) {
    if (n == T) return klanes_tile<Q6, T>(nb, w, a, a_row, y, ldy);
    klanes_token_tail<Q6, T - 1>(n, nb, w, a, a_row, y, ldy);
  }
}

// GemmFn of the layout: token tiles outer (their activations stay in L1/L2), rows inner.
template <bool Q6>
void gemm_klanes(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a, std::size_t a_row,
                 int tokens, float* y, std::int64_t ldy, std::byte* /*scratch: none needed*/) {
  const std::int64_t nb = k / kQKK;
  for (int t = 0; t < tokens; t += kKLanesTokens) {
    const int nt = std::min(kKLanesTokens, tokens - t);
    const std::byte* at = a + a_row * static_cast<std::size_t>(t);
    float* yt = y + static_cast<std::int64_t>(t) * ldy;
    for (int r = 0; r < rows; ++r)
      klanes_token_tail<Q6, kKLanesTokens>(nt, nb, w + w_row * static_cast<std::size_t>(r), at, a_row, yt + r, ldy);
  }
}

// The layout's activations, as ref::quantize_q8_kl: this backend's Q8_K codes, reordered.
void quantize_q8_kl(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ8_KL*>(out);
  for (std::int64_t i = 0; i < k / kQKK; ++i) {
    BlockQ8_K q;
    quantize_q8_k(x + i * kQKK, &q, kQKK);
    ref::q8_k_to_lanes(q, b[i]);
  }
}

// Four vectors of quants in element order (vector i: elements 64i..64i+63) -> in packed
// order: packed vector c, lane l is element group 4l + c, i.e. vector l / 4, lane
// 4 (l % 4) + c. Two two-source permutes and a blend per vector.
inline void klanes_order(const __m512i (&e)[4], __m512i (&p)[4]) {
  for (int c = 0; c < 4; ++c) {
    const __m512i idx = _mm512_setr_epi32(c, 4 + c, 8 + c, 12 + c, 16 + c, 20 + c, 24 + c, 28 + c, c, 4 + c, 8 + c, 12 + c,
                                          16 + c, 20 + c, 24 + c, 28 + c);
    p[c] = _mm512_mask_blend_epi32(0xFF00, _mm512_permutex2var_epi32(e[0], idx, e[1]), _mm512_permutex2var_epi32(e[2], idx, e[3]));
  }
}

// The layout's repack (as ref::repack_klanes, byte for byte), vectorised: loading a
// model repacks every Q4_K / Q6_K matrix, so this runs over gigabytes.
template <bool Q6>
void repack_klanes(std::byte* data, std::int64_t k, std::int64_t rows) {
  using Block = std::conditional_t<Q6, BlockQ6_K, BlockQ4_K>;
  const __m512i nib = _mm512_set1_epi8(0x0F), top2 = _mm512_set1_epi8(0x30);
  const __m512i shift_hi = _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(4), 1);
  auto* b = reinterpret_cast<Block*>(data);
  for (std::int64_t i = 0; i < rows * (k / kQKK); ++i) {
    __m512i e[4], p[4];
    if constexpr (Q6) {
      // Elements 128h..128h+63: low nibbles of ql's 64 bytes, bits 0-1 / 2-3 of qh's 32
      // (moved up to bits 4-5); elements 128h+64..: high nibbles, bits 4-5 / 6-7.
      const __m512i up = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
      const __m512i down = _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(2), 1);
      for (int h = 0; h < 2; ++h) {
        const __m512i l = _mm512_loadu_si512(b[i].ql + 64 * h);
        const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qh + 32 * h)));
        e[2 * h] = _mm512_ternarylogic_epi32(_mm512_and_si512(l, nib), _mm512_sllv_epi16(qh, up), top2, 0xF8);
        e[2 * h + 1] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(l, 4), nib),
                                                 _mm512_srlv_epi16(qh, down), top2, 0xF8);
      }
      klanes_order(e, p);
      for (int h = 0; h < 2; ++h)
        _mm512_storeu_si512(b[i].ql + 64 * h, _mm512_ternarylogic_epi32(_mm512_and_si512(p[2 * h], nib), _mm512_slli_epi16(p[2 * h + 1], 4),
                                                                        _mm512_set1_epi8(static_cast<char>(0xF0)), 0xF8));
      const __m512i h01 = _mm512_or_si512(_mm512_srli_epi16(_mm512_and_si512(p[0], top2), 4),
                                          _mm512_srli_epi16(_mm512_and_si512(p[1], top2), 2));
      const __m512i h23 = _mm512_or_si512(_mm512_and_si512(p[2], top2), _mm512_slli_epi16(_mm512_and_si512(p[3], top2), 2));
      _mm512_storeu_si512(b[i].qh, _mm512_or_si512(h01, h23));
    } else {
      for (int c = 0; c < 4; ++c) {  // bytes of chunk c twice; the upper copy's high nibbles
        const __m512i packed = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs + 32 * c)));
        e[c] = _mm512_and_si512(_mm512_srlv_epi16(packed, shift_hi), nib);
      }
      klanes_order(e, p);
      for (int h = 0; h < 2; ++h)
        _mm512_storeu_si512(b[i].qs + 64 * h, _mm512_or_si512(p[2 * h], _mm512_slli_epi16(p[2 * h + 1], 4)));
    }
  }
}

template <typename Block, bool Q6>
void install_klanes_for(KernelTable& t, DType type) {
  WeightKernels& plain = t.at(type);
  plain.repack = repack_klanes<Q6>;
  plain.repack_layout = kLayoutKLanes;
  t.packed_at(type).quantize = quantize_q8_kl;
  t.packed_at(type).gemm = gemm_klanes<Q6>;
}

void install_klanes(KernelTable& t) {
  install_klanes_for<BlockQ4_K, false>(t, DType::Q4_K);
  install_klanes_for<BlockQ6_K, true>(t, DType::Q6_K);
}
#else
void install_klanes(KernelTable&) {}
#endif
