// AVX-512 VNNI prefill tile for Q4_0 / Q8_0 weights (installed by q4_0.inl, q8_0.inl).

// Prefill tile of R weight rows x T tokens for Q4_0 / Q8_0 weights against Q8_0
// activations, two 32-element blocks per 512-bit register (halving the instructions
// per element, which is what limits this loop). vpdpbusd multiplies unsigned by signed
// bytes, so the activations are made unsigned (a + 128, once per token and block pair)
// and the weights stay signed (Q4_0: nibble - 8); the excess 128 * sum(w) is removed by
// starting each row's sums at -128 sum(w), once per row and block pair. Each block's
// lanes are then scaled by its weight scale (one multiply) and its activation scale,
// read from a table laid out per block pair and token (the FMA's memory operand).
template <bool Q4>
struct TileQ8 {
  // Signed weights of blocks b and b + 1 of a row, in element order; with !pair only
  // block b, the upper half zero (so it adds nothing to any sum).
  static __m512i weights(const std::byte* row, std::int64_t b, bool pair, __m512& dw) {
    __m512i q;
    float d0, d1 = 0.0f;
    if constexpr (Q4) {
      const auto* blk = reinterpret_cast<const BlockQ4_0*>(row) + b;
      const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[0].qs));
      const __m128i hi = pair ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[1].qs)) : _mm_setzero_si128();
      // 16-byte lanes: block b's bytes twice, then block b + 1's twice; shifting odd
      // lanes by 4 leaves each block's low nibbles (elements 0..15) before its high ones.
      const __m512i twice = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3),
                                                     _mm512_castsi256_si512(_mm256_set_m128i(hi, lo)));
      const __m512i shift = _mm512_setr_epi64(0, 0, 0x0004000400040004LL, 0x0004000400040004LL, 0, 0,
                                              0x0004000400040004LL, 0x0004000400040004LL);
      q = _mm512_sub_epi8(_mm512_and_si512(_mm512_srlv_epi16(twice, shift), _mm512_set1_epi8(0x0F)), _mm512_set1_epi8(8));
      if (!pair) q = _mm512_inserti64x4(q, _mm256_setzero_si256(), 1);
      d0 = h2f(blk[0].d);
      if (pair) d1 = h2f(blk[1].d);
    } else {
      const auto* blk = reinterpret_cast<const BlockQ8_0*>(row) + b;
      const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[0].qs));
      const __m256i hi = pair ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[1].qs)) : _mm256_setzero_si256();
      q = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
      d0 = h2f(blk[0].d);
      if (pair) d1 = h2f(blk[1].d);
    }
    dw = _mm512_insertf32x8(_mm512_set1_ps(d0), _mm256_set1_ps(d1), 1);
    return q;
  }

  // da: per block pair, T rows of 16 floats (activation scales of the pair's blocks).
  template <int R, int T>
  static void tile(std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                   const float* da, float* y, std::int64_t ldy) {
    __m512 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    const __m512i ones = _mm512_set1_epi8(1), bias = _mm512_set1_epi8(static_cast<char>(0x80));
    for (std::int64_t b = 0; b < nb; b += 2) {
      const bool pair = b + 1 < nb;
      const float* dab = da + (b / 2) * (16 * T);
      __m512i av[T];
      for (int t = 0; t < T; ++t) {
        const auto* ab = reinterpret_cast<const BlockQ8_0*>(a + a_row * static_cast<std::size_t>(t)) + b;
        const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[0].qs));
        const __m256i hi = pair ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[1].qs)) : _mm256_setzero_si256();
        av[t] = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), bias);
      }
      for (int r = 0; r < R; ++r) {
        __m512 dw;
        const __m512i wq = weights(w + w_row * static_cast<std::size_t>(r), b, pair, dw);
        const __m512i start = _mm512_sub_epi32(_mm512_setzero_si512(),
                                               _mm512_slli_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, wq), 7));
        for (int t = 0; t < T; ++t) {
          const __m512 s = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(start, av[t], wq)), dw);
          acc[r][t] = _mm512_fmadd_ps(s, _mm512_load_ps(dab + 16 * t), acc[r][t]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) y[static_cast<std::int64_t>(t) * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
};

template <bool Q4, int R, int T>
void q8_token_tail(int n, std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a,
                   std::size_t a_row, const float* da, float* y, std::int64_t ldy) {
  if constexpr (T > 0) {
    if (n == T) return TileQ8<Q4>::template tile<R, T>(nb, w, w_row, a, a_row, da, y, ldy);
    q8_token_tail<Q4, R, T - 1>(n, nb, w, w_row, a, a_row, da, y, ldy);
  }
}

// Token tiles outer, row tiles inner (activations of a tile stay in L1 while the call's
// few weight rows stream from L2). The fp16 activation scales of a token tile are
// converted once, into the per-pair table every row tile reads.
// 2 rows x 8 tokens: 16 accumulators and 8 activation pairs in registers; the per-row
// setup (unpack, scales, bias start) is shared by 8 tokens. Measured against 4 x 4:
// Q4_0 170 -> 205, Q8_0 219 -> 233 GOP/s (bench_kernels, 2048 x 2048, 512 tokens).
constexpr int kQ8TileRows = 2, kQ8TileTokens = 8;

struct alignas(64) ScaleLanes { float v[16]; };

// The scale table of gemm_q8: 16 floats per block pair and token of a tile.
std::size_t gemm_q8_scratch(std::int64_t k) {
  return sizeof(ScaleLanes) * static_cast<std::size_t>((k / kQK + 1) / 2 * kQ8TileTokens);
}

template <bool Q4>
void gemm_q8(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a, std::size_t a_row,
             int tokens, float* y, std::int64_t ldy, std::byte* scratch) {
  constexpr int R = kQ8TileRows, T = kQ8TileTokens;
  const std::int64_t nb = k / kQK, pairs = (nb + 1) / 2;
  auto* table = reinterpret_cast<ScaleLanes*>(scratch);
  for (int t = 0; t < tokens; t += T) {
    const int nt = std::min(T, tokens - t);
    const std::byte* at = a + a_row * static_cast<std::size_t>(t);
    // Rows of the table are indexed [pair * nt + token], the stride the tile of nt tokens uses.
    for (int j = 0; j < nt; ++j) {
      const auto* ab = reinterpret_cast<const BlockQ8_0*>(at + a_row * static_cast<std::size_t>(j));
      for (std::int64_t p = 0; p < pairs; ++p) {
        const float d0 = h2f(ab[2 * p].d), d1 = 2 * p + 1 < nb ? h2f(ab[2 * p + 1].d) : 0.0f;
        _mm512_store_ps(table[p * nt + j].v,
                        _mm512_insertf32x8(_mm512_set1_ps(d0), _mm256_set1_ps(d1), 1));
      }
    }
    const float* da = table->v;
    float* yt = y + static_cast<std::int64_t>(t) * ldy;
    int r = 0;
    for (; r + R <= rows; r += R) {
      const std::byte* wr = w + w_row * static_cast<std::size_t>(r);
      if (nt == T) TileQ8<Q4>::template tile<R, T>(nb, wr, w_row, at, a_row, da, yt + r, ldy);
      else q8_token_tail<Q4, R, T - 1>(nt, nb, wr, w_row, at, a_row, da, yt + r, ldy);
    }
    for (; r < rows; ++r) {
      const std::byte* wr = w + w_row * static_cast<std::size_t>(r);
      if (nt == T) TileQ8<Q4>::template tile<1, T>(nb, wr, w_row, at, a_row, da, yt + r, ldy);
      else q8_token_tail<Q4, 1, T - 1>(nt, nb, wr, w_row, at, a_row, da, yt + r, ldy);
    }
  }
}
