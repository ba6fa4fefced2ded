// Q4_0, Q4_1, Q5_0 and Q5_1 in the rows8 layout (formats/rows8.hpp): one kernel for
// decode (T = 1) and prefill (T tokens), 8 rows per group. Per block, the two 64-byte quant vectors are
// unpacked once (and / shift / and: unsigned nibbles) and used for every token; each
// token adds 4 integer dot products of 4-byte groups against 64-bit broadcasts of its
// activation bytes, starting from the block's offset term, then one fma. Lanes 2i and
// 2i + 1 belong to row i; they are added once at the end. Q5: the fifth bits are OR-ed
// in as 16; Q4_1 / Q5_1: the offset m enters once per block through d_a * sum(a).

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
constexpr int kRows8Tokens = 4;

inline __m512i bcast8(const void* p) {
  std::int64_t v;
  std::memcpy(&v, p, 8);
  return _mm512_set1_epi64(v);
}

// 16 fp16 values from 8 (each widened to 32 bits; `both`: also copied into the top half).
inline __m512 halves_to_lanes(const std::uint8_t* p, bool both) {
  const __m256i d32 = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm512_cvtph_ps(both ? _mm256_or_si256(d32, _mm256_slli_epi32(d32, 16)) : d32);
}

template <typename Block, int T>
void rows8_tile(std::int64_t nb, const std::uint8_t* w, const std::byte* a, std::size_t a_row, float* y, std::int64_t ldy) {
  using F = Rows8Format<Block>;
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (std::int64_t b = 0; b < nb; ++b, w += F::kBytes) {
    prefetch_ahead<F::kBytes>(w);
    const __m512i v0 = _mm512_loadu_si512(w + F::kQs), v1 = _mm512_loadu_si512(w + F::kQs + 64);
    __m512i q[4] = {_mm512_and_si512(v0, m4), _mm512_and_si512(v1, m4), _mm512_and_si512(_mm512_srli_epi16(v0, 4), m4),
                    _mm512_and_si512(_mm512_srli_epi16(v1, 4), m4)};
    if constexpr (F::kHigh)  // byte c of the rows' qh: the fifth bits of q[c], as a byte mask
      for (int c = 0; c < 4; ++c) {
        std::uint64_t bits;
        std::memcpy(&bits, w + F::kQh + 8 * c, 8);
        q[c] = _mm512_mask_add_epi8(q[c], bits, q[c], _mm512_set1_epi8(0x10));  // q <= 15: + 16 sets bit 4
      }
    // Each row's scale in both of its lanes; its offset m in its first lane only.
    const __m512 dw = halves_to_lanes(w, true);
    [[maybe_unused]] __m512 mw;
    if constexpr (F::kMin) mw = halves_to_lanes(w + F::kM, false);
    for (int t = 0; t < T; ++t) {
      const BlockQ8_0x* ab = reinterpret_cast<const BlockQ8_0x*>(a + a_row * static_cast<std::size_t>(t)) + b;
      __m512i s = _mm512_setzero_si512();
      if constexpr (F::kOffset != 0) s = bcast8(ab->start);
      if constexpr (F::kOffset == 16) s = _mm512_add_epi32(s, s);
      s = _mm512_dpbusd_epi32(s, q[0], bcast8(ab->qs));
      s = _mm512_dpbusd_epi32(s, q[1], bcast8(ab->qs + 8));
      s = _mm512_dpbusd_epi32(s, q[2], bcast8(ab->qs + 16));
      s = _mm512_dpbusd_epi32(s, q[3], bcast8(ab->qs + 24));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(ab->d)), acc[t]);
      if constexpr (F::kMin) acc[t] = _mm512_fmadd_ps(mw, _mm512_set1_ps(ab->s), acc[t]);
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

inline __m256i bcast8(const void* p) {
  std::int64_t v;
  std::memcpy(&v, p, 8);
  return _mm256_set1_epi64x(v);
}

// Without VNNI: u8 x s8 pairs to s16 (quant * |a| <= 31 * 128 * 2 cannot saturate),
// then pairs to s32.
inline __m256i dot4(__m256i acc, __m256i q, __m256i a) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(q, a), _mm256_set1_epi16(1)));
}

// 8 fp16 values from 4 (widened to 32 bits; `both`: also copied into the top half).
inline __m256 halves_to_lanes(const std::uint8_t* p, bool both) {
  const __m128i d32 = _mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  return _mm256_cvtph_ps(both ? _mm_or_si128(d32, _mm_slli_epi32(d32, 16)) : d32);
}

// Each 4-row half of a group is its own pass (16 registers).
template <typename Block, int T>
void rows8_half(std::int64_t nb, const std::uint8_t* w, int h, const std::byte* a, std::size_t a_row, float* y,
                std::int64_t ldy) {
  using F = Rows8Format<Block>;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (std::int64_t b = 0; b < nb; ++b, w += F::kBytes) {
    if (h == 0) prefetch_ahead<F::kBytes>(w);
    const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + F::kQs + 32 * h));
    const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + F::kQs + 64 + 32 * h));
    __m256i q[4] = {_mm256_and_si256(v0, m4), _mm256_and_si256(v1, m4), _mm256_and_si256(_mm256_srli_epi16(v0, 4), m4),
                    _mm256_and_si256(_mm256_srli_epi16(v1, 4), m4)};
    if constexpr (F::kHigh)
      for (int c = 0; c < 4; ++c) q[c] = _mm256_or_si256(q[c], q5_high_bits(w + F::kQh + 8 * c + 4 * h));
    const __m256 dw = halves_to_lanes(w + 8 * h, true);
    [[maybe_unused]] __m256 mw;
    if constexpr (F::kMin) mw = halves_to_lanes(w + F::kM + 8 * h, false);
    for (int t = 0; t < T; ++t) {
      const BlockQ8_0x* ab = reinterpret_cast<const BlockQ8_0x*>(a + a_row * static_cast<std::size_t>(t)) + b;
      __m256i s = _mm256_setzero_si256();
      if constexpr (F::kOffset != 0) s = bcast8(ab->start);
      if constexpr (F::kOffset == 16) s = _mm256_add_epi32(s, s);
      s = dot4(s, q[0], bcast8(ab->qs));
      s = dot4(s, q[1], bcast8(ab->qs + 8));
      s = dot4(s, q[2], bcast8(ab->qs + 16));
      s = dot4(s, q[3], bcast8(ab->qs + 24));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(ab->d)), acc[t]);
      if constexpr (F::kMin) acc[t] = _mm256_fmadd_ps(mw, _mm256_set1_ps(ab->s), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    const __m256 pairs = _mm256_hadd_ps(acc[t], acc[t]);  // per 128-bit half: r0 r1 r0 r1
    _mm_storeu_ps(y + t * ldy + 4 * h, _mm256_castps256_ps128(_mm256_permutevar8x32_ps(pairs, _mm256_setr_epi32(0, 1, 4, 5, 0, 1, 4, 5))));
  }
}

template <typename Block, int T>
void rows8_tile(std::int64_t nb, const std::uint8_t* w, const std::byte* a, std::size_t a_row, float* y, std::int64_t ldy) {
  rows8_half<Block, T>(nb, w, 0, a, a_row, y, ldy);
  rows8_half<Block, T>(nb, w, 1, a, a_row, y, ldy);
}
#endif

template <typename Block, int T>
void rows8_token_tail(int n, std::int64_t nb, const std::uint8_t* w, const std::byte* a, std::size_t a_row, float* y,
                      std::int64_t ldy) {
  if constexpr (T > 0) {
    if (n == T) return rows8_tile<Block, T>(nb, w, a, a_row, y, ldy);
    rows8_token_tail<Block, T - 1>(n, nb, w, a, a_row, y, ldy);
  }
}

// GemmFn of the layout: token tiles outer, groups of 8 rows inner; a last partial group
// (the tensor's plain tail rows) goes through the reference.
template <typename Block, DequantizeFn Dequantize>
void gemm_rows8(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a,
                     std::size_t a_row, int tokens, float* y, std::int64_t ldy, std::byte* scratch) {
  const std::int64_t nb = k / kQK;
  const int full = rows / 8 * 8;
  for (int t = 0; t < tokens; t += kRows8Tokens) {
    const int nt = std::min(kRows8Tokens, tokens - t);
    const std::byte* at = a + a_row * static_cast<std::size_t>(t);
    float* yt = y + static_cast<std::int64_t>(t) * ldy;
    for (int r = 0; r < full; r += 8) {
      const auto* wg = reinterpret_cast<const std::uint8_t*>(w + w_row * static_cast<std::size_t>(r));
      rows8_token_tail<Block, kRows8Tokens>(nt, nb, wg, at, a_row, yt + r, ldy);
    }
  }
  if (full < rows)
    ref::gemm_rows8<Block, Dequantize>(k, w + w_row * static_cast<std::size_t>(full), w_row, rows - full, a, a_row, tokens, y + full,
                         ldy, scratch);
}

// The layout's activations (formats/rows8.hpp), as ref::quantize_q8_0x: the codes
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
    b[i].s = b[i].d * static_cast<float>(sums[0] + sums[1] + sums[2] + sums[3] + sums[4] + sums[5] + sums[6] + sums[7]);
  }
}

template <typename Block, DequantizeFn Dequantize>
void install_rows8_for(KernelTable& t, DType type) {
  WeightKernels& plain = t.at(type);
  plain.repack = ref::repack_rows8<Block>;
  plain.repack_layout = kLayoutRows8;
  t.packed_at(type).quantize = quantize_q8_0x;
  t.packed_at(type).gemm = gemm_rows8<Block, Dequantize>;
}

void install_rows8(KernelTable& t) {
  install_rows8_for<BlockQ4_0, ref::dequantize_q4_0>(t, DType::Q4_0);
  install_rows8_for<BlockQ4_1, ref::dequantize_q4_1>(t, DType::Q4_1);
  install_rows8_for<BlockQ5_0, ref::dequantize_q5_0>(t, DType::Q5_0);
  install_rows8_for<BlockQ5_1, ref::dequantize_q5_1>(t, DType::Q5_1);
}
