// Helpers every x86 kernel file uses. The x86 backend is one source (backend.inl)
// compiled twice, once per ISA (backend_avx2.cpp, backend_avx512.cpp); each included
// file sees that file's target flags, so `#if defined(__AVX512VNNI__)` picks per ISA.
//
// Expects, before inclusion: `using Arch = xsimd::...;` in the enclosing namespace.

using FBatch = xsimd::batch<float, Arch>;
constexpr std::int64_t kLanes = static_cast<std::int64_t>(FBatch::size);

inline float h2f(std::uint16_t h) { return _cvtsh_ss(h); }

// A one-token matmul streams every weight once, and the hardware prefetchers here (as on
// many x86 cores) stop at each 4 KB page boundary and ramp up again on the next page: the
// decode loops therefore also ask for the weights one page ahead. That took F16 decode
// from 4.3 to 7.1 tokens/s on one core of the Xeon VM (README, Speed). A prefetch is a
// hint: one past the end of a tensor or mapping does not fault.
constexpr std::size_t kPrefetchAhead = 4096;

// Prefetches the `Bytes` bytes (one line per 64) that lie kPrefetchAhead after p.
template <std::size_t Bytes>
inline void prefetch_ahead(const void* p) {
  const char* c = static_cast<const char*>(p) + kPrefetchAhead;
  for (std::size_t off = 0; off < Bytes; off += 64) _mm_prefetch(c + off, _MM_HINT_T0);
}


// Sum over 32 int8 pairs, as 8 int32 lanes: |x| * sign(y, x) keeps maddubs's unsigned
// operand non-negative; with VNNI one instruction does the multiply and the adds.
inline __m256i dot_i8x32(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, sy);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
#endif
}

inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// The 32 quants of a Q4_0 block as signed bytes in element order (low nibbles are
// elements 0..15, high nibbles 16..31), minus the offset 8.
inline __m256i unpack_q4(const std::uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_and_si128(packed, mask);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
  return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
}

// The 32 nibbles of a Q4/Q5 block as bytes in element order, without offset.
inline __m256i unpack_nibbles(const std::uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(packed, 4), mask), _mm_and_si128(packed, mask));
}

// Bit j of a Q5 block's qh as 16 in byte j (the fifth bit of element j).
inline __m256i q5_high_bits(const std::uint8_t* qh_bytes) {
  std::uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(qh)),
      _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

// Sum of (unsigned q) * (signed a) over 32 pairs, as 8 int32 lanes (q <= 31).
inline __m256i dot_u8_i8x32(__m256i q, __m256i a) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(q, a), _mm256_set1_epi16(1));
}

// The eight 6-bit scales and mins of a Q4_K/Q5_K super-block as bytes. Sub-blocks 0..3
// keep theirs in the low 6 bits of bytes 0..3 (scales) and 4..7 (mins); sub-blocks 4..7
// have their low 4 bits in bytes 8..11 and their top 2 bits in the spare top bits of
// bytes 0..7. Done on 32-bit words, four sub-blocks at a time.
inline void k_scales_mins8(const std::uint8_t* q, std::uint64_t& sc, std::uint64_t& mn) {
  std::uint32_t w0, w1, w2;
  std::memcpy(&w0, q, 4);
  std::memcpy(&w1, q + 4, 4);
  std::memcpy(&w2, q + 8, 4);
  constexpr std::uint32_t low6 = 0x3F3F3F3Fu, low4 = 0x0F0F0F0Fu, bits45 = 0x30303030u;
  sc = (w0 & low6) | (static_cast<std::uint64_t>((w2 & low4) | ((w0 >> 2) & bits45)) << 32);
  mn = (w1 & low6) | (static_cast<std::uint64_t>(((w2 >> 4) & low4) | ((w1 >> 2) & bits45)) << 32);
}


// Runs Tile::tile<R, n> for a token tail of n < T tokens (compile-time sizes).
template <class Tile, int R, int T>
void token_tail(int n, std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                float* y, std::int64_t ldy) {
  if constexpr (T > 0) {
    if (n == T) return Tile::template tile<R, T>(nb, w, w_row, a, a_row, y, ldy);
    token_tail<Tile, R, T - 1>(n, nb, w, w_row, a, a_row, y, ldy);
  }
}

// A GemmFn from a tile of R rows x T tokens: token tiles outer (their activations stay
// hot), row tiles inner; tails use smaller compile-time tiles.
template <class Tile, int R, int T>
void gemm_k(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a, std::size_t a_row,
            int tokens, float* y, std::int64_t ldy, std::byte* /*scratch: none needed*/) {
  const std::int64_t nb = k / kQKK;
  for (int t = 0; t < tokens; t += T) {
    const int nt = std::min(T, tokens - t);
    const std::byte* at = a + a_row * static_cast<std::size_t>(t);
    float* yt = y + static_cast<std::int64_t>(t) * ldy;
    int r = 0;
    for (; r + R <= rows; r += R) {
      const std::byte* wr = w + w_row * static_cast<std::size_t>(r);
      if (nt == T) Tile::template tile<R, T>(nb, wr, w_row, at, a_row, yt + r, ldy);
      else token_tail<Tile, R, T - 1>(nt, nb, wr, w_row, at, a_row, yt + r, ldy);
    }
    for (; r < rows; ++r) {
      const std::byte* wr = w + w_row * static_cast<std::size_t>(r);
      if (nt == T) Tile::template tile<1, T>(nb, wr, w_row, at, a_row, yt + r, ldy);
      else token_tail<Tile, 1, T - 1>(nt, nb, wr, w_row, at, a_row, yt + r, ldy);
    }
  }
}

