// Q4_0 in the rows8 layout (formats/q4_0_rows8.hpp): one kernel for decode (T = 1) and
// prefill (T tokens), 8 rows per group. Per block, the two 64-byte quant vectors are
// unpacked once (and / shift / and: unsigned nibbles) and used for every token; each
// token adds 4 integer dot products of 4-byte groups against 64-bit broadcasts of its
// activation bytes, starting from the block's offset term, then one fma. Lanes 2i and
// 2i + 1 belong to row i; they are added once at the end.

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
constexpr int kRows8Tokens = 4;

inline __m512i bcast8(const std::int8_t* p) {
  std::int64_t v;
  std::memcpy(&v, p, 8);
  return _mm512_set1_epi64(v);
}

template <int T>
void rows8_tile(std::int64_t nb, const BlockQ4_0x8* w, const std::byte* a, std::size_t a_row, float* y, std::int64_t ldy) {
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (std::int64_t b = 0; b < nb; ++b) {
    const __m512i v0 = _mm512_loadu_si512(w[b].qs), v1 = _mm512_loadu_si512(w[b].qs + 64);
    const __m512i q0 = _mm512_and_si512(v0, m4), q1 = _mm512_and_si512(v1, m4);
    const __m512i q2 = _mm512_and_si512(_mm512_srli_epi16(v0, 4), m4), q3 = _mm512_and_si512(_mm512_srli_epi16(v1, 4), m4);
    // Each row's fp16 scale in both of its lanes: widen to 32 bits, copy into the top half.
    const __m256i d32 = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].d)));
    const __m512 dw = _mm512_cvtph_ps(_mm256_or_si256(d32, _mm256_slli_epi32(d32, 16)));
    for (int t = 0; t < T; ++t) {
      const BlockQ8_0x* ab = reinterpret_cast<const BlockQ8_0x*>(a + a_row * static_cast<std::size_t>(t)) + b;
      std::int64_t start;
      std::memcpy(&start, ab->start, 8);
      __m512i s = _mm512_dpbusd_epi32(_mm512_set1_epi64(start), q0, bcast8(ab->qs));
      s = _mm512_dpbusd_epi32(s, q1, bcast8(ab->qs + 8));
      s = _mm512_dpbusd_epi32(s, q2, bcast8(ab->qs + 16));
      s = _mm512_dpbusd_epi32(s, q3, bcast8(ab->qs + 24));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(ab->d)), acc[t]);
    }
  }
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
  for (int t = 0; t < T; ++t) {
    const __m512 pairs = _mm512_add_ps(acc[t], _mm512_permute_ps(acc[t], 0xB1));
    _mm256_storeu_ps(y + t * ldy, _mm512_castps512_ps256(_mm512_permutexvar_ps(even, pairs)));
  }
}
#else
constexpr int kRows8Tokens = 2;

inline __m256i bcast8(const std::int8_t* p) {
  std::int64_t v;
  std::memcpy(&v, p, 8);
  return _mm256_set1_epi64x(v);
}

// Without VNNI: u8 x s8 pairs to s16 (nibble * |a| <= 15 * 128 * 2 cannot saturate),
// then pairs to s32. Each 4-row half of a group is its own pass (16 registers).
inline __m256i dot4(__m256i acc, __m256i q, __m256i a) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(q, a), _mm256_set1_epi16(1)));
}

template <int T>
void rows8_tile(std::int64_t nb, const BlockQ4_0x8* w, const std::byte* a, std::size_t a_row, float* y, std::int64_t ldy) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int h = 0; h < 2; ++h) {
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
      const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs + 32 * h));
      const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs + 64 + 32 * h));
      const __m256i q0 = _mm256_and_si256(v0, m4), q1 = _mm256_and_si256(v1, m4);
      const __m256i q2 = _mm256_and_si256(_mm256_srli_epi16(v0, 4), m4), q3 = _mm256_and_si256(_mm256_srli_epi16(v1, 4), m4);
      const __m128i d32 = _mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w[b].d + 4 * h)));
      const __m256 dw = _mm256_cvtph_ps(_mm_or_si128(d32, _mm_slli_epi32(d32, 16)));
      for (int t = 0; t < T; ++t) {
        const BlockQ8_0x* ab = reinterpret_cast<const BlockQ8_0x*>(a + a_row * static_cast<std::size_t>(t)) + b;
        std::int64_t start;
        std::memcpy(&start, ab->start, 8);
        __m256i s = dot4(_mm256_set1_epi64x(start), q0, bcast8(ab->qs));
        s = dot4(s, q1, bcast8(ab->qs + 8));
        s = dot4(s, q2, bcast8(ab->qs + 16));
        s = dot4(s, q3, bcast8(ab->qs + 24));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(ab->d)), acc[t]);
      }
    }
    for (int t = 0; t < T; ++t) {
      const __m256 pairs = _mm256_hadd_ps(acc[t], acc[t]);  // per 128-bit half: r0 r1 r0 r1
      _mm_storeu_ps(y + t * ldy + 4 * h, _mm256_castps256_ps128(_mm256_permutevar8x32_ps(pairs, _mm256_setr_epi32(0, 1, 4, 5, 0, 1, 4, 5))));
    }
  }
}
#endif

template <int T>
void rows8_token_tail(int n, std::int64_t nb, const BlockQ4_0x8* w, const std::byte* a, std::size_t a_row, float* y,
                      std::int64_t ldy) {
  if constexpr (T > 0) {
    if (n == T) return rows8_tile<T>(nb, w, a, a_row, y, ldy);
    rows8_token_tail<T - 1>(n, nb, w, a, a_row, y, ldy);
  }
}

// GemmFn of the layout: token tiles outer, groups of 8 rows inner; a last partial group
// (the tensor's plain tail rows) goes through the reference.
void gemm_q4_0_rows8(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a,
                     std::size_t a_row, int tokens, float* y, std::int64_t ldy, std::byte* scratch) {
  const std::int64_t nb = k / kQK;
  const int full = rows / 8 * 8;
  for (int t = 0; t < tokens; t += kRows8Tokens) {
    const int nt = std::min(kRows8Tokens, tokens - t);
    const std::byte* at = a + a_row * static_cast<std::size_t>(t);
    float* yt = y + static_cast<std::int64_t>(t) * ldy;
    for (int r = 0; r < full; r += 8) {
      const auto* wg = reinterpret_cast<const BlockQ4_0x8*>(w + w_row * static_cast<std::size_t>(r));
      rows8_token_tail<kRows8Tokens>(nt, nb, wg, at, a_row, yt + r, ldy);
    }
  }
  if (full < rows)
    ref::gemm_q4_0_rows8(k, w + w_row * static_cast<std::size_t>(full), w_row, rows - full, a, a_row, tokens, y + full,
                         ldy, scratch);
}

// The layout's activations (formats/q4_0_rows8.hpp), as ref::quantize_q8_0x: the codes
// of quantize_q8_0, then the offset term of each row's two lanes from sums of 4 bytes.
void quantize_q8_0x(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ8_0x*>(out);
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    BlockQ8_0 q;
    quantize_q8_0(x + i * kQK, &q, kQK);
    const __m256i codes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q.qs));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs), codes);
    alignas(32) std::int32_t sums[8];  // sums[g] = sum of codes 4g..4g+3
    _mm256_store_si256(reinterpret_cast<__m256i*>(sums),
                       _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, codes), ones16));
    b[i].start[0] = -8 * (sums[0] + sums[2] + sums[4] + sums[6]);
    b[i].start[1] = -8 * (sums[1] + sums[3] + sums[5] + sums[7]);
    b[i].d = h2f(q.d);
    b[i].pad = 0;
  }
}

void install_q4_0_rows8(KernelTable& t) {
  WeightKernels& plain = t.at(DType::Q4_0);
  plain.repack = ref::repack_q4_0_rows8;
  plain.repack_layout = kLayoutRows8;
  t.packed_at(DType::Q4_0).quantize = quantize_q8_0x;
  t.packed_at(DType::Q4_0).gemm = gemm_q4_0_rows8;
}
