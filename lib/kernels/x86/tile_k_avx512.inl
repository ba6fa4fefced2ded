// ---- K-quant prefill tiles (AVX-512 VNNI) -------------------------------------------
// A super-block of 256 weights is unpacked once per row into four 64-byte vectors of
// small unsigned quants and four matching vectors of 16-bit sub-block scales, then used
// for every token of the tile. Per 64 elements and (row, token) that is one vpmaddubsw
// (u8 x s8 -> pairs in s16; quants <= 63 and |a| <= 128 cannot saturate) and one
// vpdpwssd (times the scale, accumulated in s32), so the whole super-block is summed in
// integers and touches floats once. Tokens are the outer loop so the activations of a
// token tile stay in L1 while the (few) weight rows of the call stream from L2.

// 16-bit words: the first 16 hold a, the last 16 hold b.
inline __m512i halves_epi16(short a, short b) {
  return _mm512_inserti64x4(_mm512_set1_epi16(a), _mm256_set1_epi16(b), 1);
}

inline __m512 zext_ps(__m256 v) { return _mm512_insertf32x8(_mm512_setzero_ps(), v, 0); }

// Q4_K and Q5_K: 32 packed bytes hold elements 64c..64c+31 in their low nibbles and
// 64c+32..64c+63 in their high nibbles; broadcasting them to both halves of a register
// and shifting the upper half by 4 puts all 64 in element order.
template <bool Q5>
struct TileQ45K {
  using Block = std::conditional_t<Q5, BlockQ5_K, BlockQ4_K>;

  template <int R, int T>
  static void tile(std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                   float* y, std::int64_t ldy) {
    __m512 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    const __m512i nib = _mm512_set1_epi8(0x0F);
    const __m512i shift_hi = halves_epi16(0, 4);
    for (std::int64_t b = 0; b < nb; ++b) {
      const BlockQ8_K* ab[T];
      __m512 bsum[T];  // activation sum of each 32-element sub-block, for the mins
      for (int t = 0; t < T; ++t) {
        ab[t] = reinterpret_cast<const BlockQ8_K*>(a + a_row * static_cast<std::size_t>(t)) + b;
        const __m256i s16 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[t]->bsums));
        bsum[t] = zext_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(s16, _mm256_set1_epi16(1))));
      }
      for (int r = 0; r < R; ++r) {
        const Block* wb = reinterpret_cast<const Block*>(w + w_row * static_cast<std::size_t>(r)) + b;
        prefetch_ahead<sizeof(Block)>(wb);
        std::uint64_t sc, mn;
        k_scales_mins8(wb->scales, sc, mn);
        // The 8 scales as words, repeated in every 128-bit lane, picked per chunk below.
        const __m512i sc16 = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(sc))));
        const __m512 mins = zext_ps(_mm256_mul_ps(
            _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(mn)))),
            _mm256_set1_ps(h2f(wb->dmin))));
        const __m512 dw = _mm512_set1_ps(h2f(wb->d));
        __m512i q[4], s[4];
        [[maybe_unused]] __m512i qh;
        if constexpr (Q5) qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qh)));
        for (int c = 0; c < 4; ++c) {
          const __m512i packed = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qs + 32 * c)));
          q[c] = _mm512_and_si512(_mm512_srlv_epi16(packed, shift_hi), nib);
          if constexpr (Q5) {
            // Bit 2c of qh[l] is the fifth bit of element 64c+l, bit 2c+1 that of 64c+32+l.
            const __mmask64 high = _mm512_test_epi8_mask(
                qh, _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1 << (2 * c))),
                                       _mm256_set1_epi8(static_cast<char>(1 << (2 * c + 1))), 1));
            q[c] = _mm512_mask_add_epi8(q[c], high, q[c], _mm512_set1_epi8(16));
          }
          s[c] = _mm512_permutexvar_epi16(halves_epi16(static_cast<short>(2 * c), static_cast<short>(2 * c + 1)), sc16);
        }
        for (int t = 0; t < T; ++t) {
          __m512i sum = _mm512_setzero_si512();
          for (int c = 0; c < 4; ++c) {
            const __m512i av = _mm512_loadu_si512(ab[t]->qs + 64 * c);
            sum = _mm512_dpwssd_epi32(sum, _mm512_maddubs_epi16(q[c], av), s[c]);
          }
          // d * sum(sc q a) - dmin * sum(mn bsum), both times the activation scale.
          const __m512 v = _mm512_fnmadd_ps(mins, bsum[t], _mm512_mul_ps(dw, _mm512_cvtepi32_ps(sum)));
          acc[r][t] = _mm512_fmadd_ps(v, _mm512_set1_ps(ab[t]->d), acc[r][t]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) y[static_cast<std::int64_t>(t) * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
};

// The scales of 64-element chunk g of a super-block with 16-element sub-blocks, for the
// 32 words vpmaddubsw leaves: words 8i..8i+7 (elements 16i..16i+15) take scale 4g+i of
// sc16 (the 16 scales as words, in either half).
inline __m512i chunk_scales16(__m512i sc16, int g) {
  const __m512i idx = _mm512_inserti64x4(
      _mm512_castsi256_si512(
          _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(4 * g + 1)), _mm_set1_epi16(static_cast<short>(4 * g)))),
      _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(4 * g + 3)), _mm_set1_epi16(static_cast<short>(4 * g + 2))), 1);
  return _mm512_permutexvar_epi16(idx, sc16);
}

// Q6_K: ql's 64 bytes of each 128-element half hold elements 0..63 of the half in their
// low nibbles and 64..127 in their high nibbles; qh's 32 bytes supply two bits to each,
// at bit pairs 0/2 (first 64, halves of 32) and 4/6 (last 64). The quants carry an
// offset of 32, removed through the activation sums: sum (q - 32) a sc = sum q a sc -
// 32 sum sc bsum, which starts each accumulator.
struct TileQ6K {
  template <int R, int T>
  static void tile(std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                   float* y, std::int64_t ldy) {
    __m512 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    const __m512i nib = _mm512_set1_epi8(0x0F), top2 = _mm512_set1_epi8(0x30);
    const __m512i shl_first = halves_epi16(4, 2), shr_last = halves_epi16(0, 2);
    for (std::int64_t b = 0; b < nb; ++b) {
      const BlockQ8_K* ab[T];
      __m512i bsum[T];  // the 16 activation sums as words, upper half zero
      for (int t = 0; t < T; ++t) {
        ab[t] = reinterpret_cast<const BlockQ8_K*>(a + a_row * static_cast<std::size_t>(t)) + b;
        bsum[t] = _mm512_inserti64x4(_mm512_setzero_si512(),
                                     _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[t]->bsums)), 0);
      }
      for (int r = 0; r < R; ++r) {
        const BlockQ6_K* wb = reinterpret_cast<const BlockQ6_K*>(w + w_row * static_cast<std::size_t>(r)) + b;
        prefetch_ahead<sizeof(BlockQ6_K)>(wb);
        const __m256i sc256 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wb->scales)));
        const __m512i sc16 = _mm512_broadcast_i64x4(sc256);
        const __m512i offset_sc = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_slli_epi16(sc256, 5), 0);
        __m512i q[4], s[4];
        for (int h = 0; h < 2; ++h) {
          const __m512i ql = _mm512_loadu_si512(wb->ql + 64 * h);
          const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qh + 32 * h)));
          q[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, nib), _mm512_and_si512(_mm512_sllv_epi16(qh, shl_first), top2));
          q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), nib),
                                         _mm512_and_si512(_mm512_srlv_epi16(qh, shr_last), top2));
        }
        for (int g = 0; g < 4; ++g) s[g] = chunk_scales16(sc16, g);
        const __m512 dw = _mm512_set1_ps(h2f(wb->d));
        for (int t = 0; t < T; ++t) {
          __m512i sum = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_madd_epi16(bsum[t], offset_sc));
          for (int g = 0; g < 4; ++g) {
            const __m512i av = _mm512_loadu_si512(ab[t]->qs + 64 * g);
            sum = _mm512_dpwssd_epi32(sum, _mm512_maddubs_epi16(q[g], av), s[g]);
          }
          acc[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(ab[t]->d)), _mm512_cvtepi32_ps(sum), acc[r][t]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) y[static_cast<std::int64_t>(t) * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
};


// Q2_K and Q3_K: byte 32h + l of qs holds, at bit pair j, element 128h + 32j + l.
// Broadcasting half h's 32 bytes to both register halves and shifting the upper half two
// bits further puts chunk c = 2h + j / 2 (pairs j and j + 1) in element order. Q3_K's
// third bit (bit 4h + j of hmask[l]) adds 4, so its quants are q + 4 (0..7) and the -4
// returns through the activation sums, as Q6_K's offset 32 does; Q2_K's 4-bit mins enter
// through the same sums with their own scale dmin.
template <bool Q3>
struct TileQ23K {
  using Block = std::conditional_t<Q3, BlockQ3_K, BlockQ2_K>;

  template <int R, int T>
  static void tile(std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                   float* y, std::int64_t ldy) {
    __m512 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    const __m512i three = _mm512_set1_epi8(3);
    for (std::int64_t b = 0; b < nb; ++b) {
      const BlockQ8_K* ab[T];
      __m512i bsum[T];  // Q3_K: the 16 activation sums as words, upper half zero
      // Q2_K: the 16 activation sums as floats times the token's scale, so that a row's
      // mins enter with one FMA per token (the mins' scale dmin differs from d).
      [[maybe_unused]] __m512 bsd[T];
      for (int t = 0; t < T; ++t) {
        ab[t] = reinterpret_cast<const BlockQ8_K*>(a + a_row * static_cast<std::size_t>(t)) + b;
        const __m256i sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[t]->bsums));
        if constexpr (Q3) bsum[t] = _mm512_zextsi256_si512(sums);
        else bsd[t] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(sums)), _mm512_set1_ps(ab[t]->d));
      }
      for (int r = 0; r < R; ++r) {
        const Block* wb = reinterpret_cast<const Block*>(w + w_row * static_cast<std::size_t>(r)) + b;
        prefetch_ahead<sizeof(Block)>(wb);
        [[maybe_unused]] __m512i sc16;      // Q3_K: the 16 sub-block scales as words, in both halves
        [[maybe_unused]] __m512i offset16;  // Q3_K: 4 * scale per sub-block, as words (upper half zero)
        [[maybe_unused]] __m512 mins;       // Q2_K: dmin * min per sub-block
        // Q2_K: a 2-bit quant times its 4-bit scale fits a byte (<= 45), so each row's
        // quants are scaled once here and a chunk costs each token one vpdpbusd (instead
        // of vpmaddubsw + vpdpwssd). Dword i of `products`: bytes {0, s_i, 2 s_i, 3 s_i},
        // a vpshufb table from quant to product for sub-block i.
        [[maybe_unused]] __m512i products;
        if constexpr (Q3) {
          const __m256i sc256 = _mm256_sub_epi16(_mm256_cvtepu8_epi16(q3_k_scale_bytes(wb->scales)), _mm256_set1_epi16(32));
          sc16 = _mm512_broadcast_i64x4(sc256);
          offset16 = _mm512_zextsi256_si512(_mm256_slli_epi16(sc256, 2));
        } else {
          const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb->scales)), nib = _mm_set1_epi8(0x0F);
          products = _mm512_mullo_epi32(_mm512_cvtepu8_epi32(_mm_and_si128(raw, nib)), _mm512_set1_epi32(0x03020100));
          mins = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(raw, 4), nib))),
                               _mm512_set1_ps(h2f(wb->dmin)));
        }
        __m512i q[4];
        [[maybe_unused]] __m512i s[4];
        [[maybe_unused]] __m512i hm;
        if constexpr (Q3) hm = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->hmask)));
        for (int c = 0; c < 4; ++c) {
          const int h = c / 2, j = 2 * (c % 2);
          const __m512i bits = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qs + 32 * h)));
          q[c] = _mm512_and_si512(_mm512_srlv_epi16(bits, halves_epi16(static_cast<short>(2 * j), static_cast<short>(2 * j + 2))), three);
          if constexpr (Q3) {
            const __mmask64 high = _mm512_test_epi8_mask(
                hm, _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1 << (4 * h + j))),
                                       _mm256_set1_epi8(static_cast<char>(1 << (4 * h + j + 1))), 1));
            q[c] = _mm512_mask_add_epi8(q[c], high, q[c], _mm512_set1_epi8(4));
            s[c] = chunk_scales16(sc16, c);
          } else {  // 128-bit lane i of chunk c is sub-block 4c + i: its table, then q * s
            const __m512i lane = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
            const __m512i table = _mm512_permutexvar_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32(4 * c)), products);
            q[c] = _mm512_shuffle_epi8(table, q[c]);
          }
        }
        const float dw = h2f(wb->d);
        for (int t = 0; t < T; ++t) {
          __m512i sum = _mm512_setzero_si512();
          if constexpr (Q3) sum = _mm512_sub_epi32(sum, _mm512_madd_epi16(bsum[t], offset16));
          for (int c = 0; c < 4; ++c) {
            const __m512i av = _mm512_loadu_si512(ab[t]->qs + 64 * c);
            if constexpr (Q3) sum = _mm512_dpwssd_epi32(sum, _mm512_maddubs_epi16(q[c], av), s[c]);
            else sum = _mm512_dpbusd_epi32(sum, q[c], av);
          }
          acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_set1_ps(dw * ab[t]->d), acc[r][t]);
          if constexpr (!Q3) acc[r][t] = _mm512_fnmadd_ps(mins, bsd[t], acc[r][t]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) y[static_cast<std::int64_t>(t) * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
};

constexpr int kKTileRows = 4;
