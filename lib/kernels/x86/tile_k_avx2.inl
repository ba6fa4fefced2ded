// ---- K-quant prefill tiles (AVX2) ---------------------------------------------------
// Without VNNI, and with 16 vector registers: one weight row per tile, T tokens. Each
// 32-element chunk is unpacked once for the T tokens; per chunk and token vpmaddubsw
// (u8 x s8 -> s16 pairs) then vpmaddwd by the sub-block scale (-> s32), summed over
// the super-block in integers as in the AVX-512 tiles.

template <bool Q5>
struct TileQ45K {
  using Block = std::conditional_t<Q5, BlockQ5_K, BlockQ4_K>;

  template <int R, int T>
  static void tile(std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                   float* y, std::int64_t ldy) {
    static_assert(R == 1, "one row per AVX2 tile");
    (void)w_row;
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    const __m256i nib = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    for (std::int64_t b = 0; b < nb; ++b) {
      const Block* wb = reinterpret_cast<const Block*>(w) + b;
      prefetch_ahead<sizeof(Block)>(wb);
      const BlockQ8_K* ab[T];
      for (int t = 0; t < T; ++t) ab[t] = reinterpret_cast<const BlockQ8_K*>(a + a_row * static_cast<std::size_t>(t)) + b;
      std::uint64_t sc_bits, mn_bits;
      k_scales_mins8(wb->scales, sc_bits, mn_bits);
      std::uint8_t sc[8];
      std::memcpy(sc, &sc_bits, 8);
      [[maybe_unused]] __m256i qh;
      if constexpr (Q5) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qh));
      __m256i sum[T];
      for (int t = 0; t < T; ++t) sum[t] = _mm256_setzero_si256();
      for (int c = 0; c < 4; ++c) {
        const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qs + 32 * c));
        __m256i lo = _mm256_and_si256(packed, nib);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), nib);
        if constexpr (Q5) {
          // Bit 2c / 2c+1 of qh[l] is the fifth bit of element 64c+l / 64c+32+l.
          lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4));
          hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4));
        }
        const __m256i s_lo = _mm256_set1_epi16(sc[2 * c]), s_hi = _mm256_set1_epi16(sc[2 * c + 1]);
        for (int t = 0; t < T; ++t) {
          const auto* av = reinterpret_cast<const __m256i*>(ab[t]->qs + 64 * c);
          sum[t] = _mm256_add_epi32(sum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(lo, _mm256_loadu_si256(av)), s_lo));
          sum[t] = _mm256_add_epi32(sum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(hi, _mm256_loadu_si256(av + 1)), s_hi));
        }
      }
      const __m256 mins = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(mn_bits)))),
                                        _mm256_set1_ps(h2f(wb->dmin)));
      const __m256 dw = _mm256_set1_ps(h2f(wb->d));
      for (int t = 0; t < T; ++t) {
        const __m256i s16 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[t]->bsums));
        const __m256 bsum = _mm256_cvtepi32_ps(_mm256_madd_epi16(s16, _mm256_set1_epi16(1)));
        const __m256 v = _mm256_fnmadd_ps(mins, bsum, _mm256_mul_ps(dw, _mm256_cvtepi32_ps(sum[t])));
        acc[t] = _mm256_fmadd_ps(v, _mm256_set1_ps(ab[t]->d), acc[t]);
      }
    }
    for (int t = 0; t < T; ++t) y[static_cast<std::int64_t>(t) * ldy] = hsum(acc[t]);
  }
};

// Q6_K as dot_q6_k lays it out, one row by T tokens; the offset of 32 enters through
// the activation sums (sum (q - 32) a sc = sum q a sc - 32 sum sc bsum).
struct TileQ6K {
  template <int R, int T>
  static void tile(std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                   float* y, std::int64_t ldy) {
    static_assert(R == 1, "one row per AVX2 tile");
    (void)w_row;
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x30);
    for (std::int64_t b = 0; b < nb; ++b) {
      const BlockQ6_K* wb = reinterpret_cast<const BlockQ6_K*>(w) + b;
      prefetch_ahead<sizeof(BlockQ6_K)>(wb);
      const BlockQ8_K* ab[T];
      const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wb->scales)));
      __m256i sum[T];
      for (int t = 0; t < T; ++t) {
        ab[t] = reinterpret_cast<const BlockQ8_K*>(a + a_row * static_cast<std::size_t>(t)) + b;
        const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[t]->bsums));
        sum[t] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5));
      }
      for (int h = 0; h < 2; ++h) {
        const std::uint8_t* ql = wb->ql + 64 * h;
        const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
        const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qh + 32 * h));
        for (int kq = 0; kq < 4; ++kq) {
          const __m256i l = kq & 1 ? l1 : l0;
          const __m256i low = kq < 2 ? _mm256_and_si256(l, m4) : _mm256_and_si256(_mm256_srli_epi16(l, 4), m4);
          // Bits 2kq, 2kq+1 of qh move to bits 4, 5.
          const __m256i high = kq == 0   ? _mm256_slli_epi16(qh, 4)
                               : kq == 1 ? _mm256_slli_epi16(qh, 2)
                               : kq == 2 ? qh
                                         : _mm256_srli_epi16(qh, 2);
          const __m256i q = _mm256_or_si256(low, _mm256_and_si256(high, m2));
          const int s0 = wb->scales[8 * h + 2 * kq], s1 = wb->scales[8 * h + 2 * kq + 1];
          const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(s1)), _mm_set1_epi16(static_cast<short>(s0)));
          for (int t = 0; t < T; ++t) {
            const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[t]->qs + 128 * h + 32 * kq));
            sum[t] = _mm256_add_epi32(sum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(q, av), scale));
          }
        }
      }
      const float dw = h2f(wb->d);
      for (int t = 0; t < T; ++t)
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * ab[t]->d), _mm256_cvtepi32_ps(sum[t]), acc[t]);
    }
    for (int t = 0; t < T; ++t) y[static_cast<std::int64_t>(t) * ldy] = hsum(acc[t]);
  }
};

constexpr int kKTileRows = 1;
