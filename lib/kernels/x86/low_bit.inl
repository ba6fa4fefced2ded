// Q2_K and Q3_K dot products against Q8_K activations (AVX2 integer code, also used by
// the AVX-512 table). Every integer sum is exact, and the per-super-block float step is
// the scalar reference's, so results equal it bit for bit. Included from backend.inl.

namespace low_bit {

// Σ over 32 elements of q (unsigned, < 128) * a (int8), split into its two 16-element
// halves and weighted by their scales: 8 int32 lanes, lanes 0-3 from the first half.
inline __m256i scaled_pair_sum(__m256i q, __m256i a, int scale_lo, int scale_hi) {
  const __m256i prod = _mm256_maddubs_epi16(q, a);  // 16 x int16, pairs of products
  const __m256i scales = _mm256_setr_epi16(
      static_cast<short>(scale_lo), static_cast<short>(scale_lo), static_cast<short>(scale_lo), static_cast<short>(scale_lo),
      static_cast<short>(scale_lo), static_cast<short>(scale_lo), static_cast<short>(scale_lo), static_cast<short>(scale_lo),
      static_cast<short>(scale_hi), static_cast<short>(scale_hi), static_cast<short>(scale_hi), static_cast<short>(scale_hi),
      static_cast<short>(scale_hi), static_cast<short>(scale_hi), static_cast<short>(scale_hi), static_cast<short>(scale_hi));
  return _mm256_madd_epi16(prod, scales);
}

inline int hsum_i32(__m256i v) {
  const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i s2 = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  return _mm_cvtsi128_si32(_mm_add_epi32(s2, _mm_shuffle_epi32(s2, 0xB1)));
}

}  // namespace low_bit

// Elements e = 128h + 32j + l take bits 2j..2j+1 of qs[32h + l]; sub-block e / 16 has a
// 4-bit scale (low nibble) and a 4-bit min (high nibble).
float dot_q2_k(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i three = _mm256_set1_epi8(3);
  float sum = 0;
  for (std::int64_t i = 0; i < k / kQKK; ++i) {
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * h));
      for (int j = 0; j < 4; ++j) {
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * j), three);
        const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 128 * h + 32 * j));
        const int s = 8 * h + 2 * j;
        acc = _mm256_add_epi32(acc, low_bit::scaled_pair_sum(q, q8, x[i].scales[s] & 0xF, x[i].scales[s + 1] & 0xF));
      }
    }
    int mins = 0;
    for (int s = 0; s < 16; ++s) mins += (x[i].scales[s] >> 4) * y[i].bsums[s];
    const int scaled = low_bit::hsum_i32(acc);
    sum += y[i].d * (h2f(x[i].d) * static_cast<float>(scaled) - h2f(x[i].dmin) * static_cast<float>(mins));
  }
  return sum;
}

// Q3_K: q = q2 - 4 unless the element's hmask bit is set. With q' = q2 + 4 * bit (0..7,
// unsigned as maddubs wants), Σ q * a = Σ q' * a - 4 Σ a, and Σ a per sub-block is the
// activation block's bsums. Scales are 6-bit, signed (-32..31).
float dot_q3_k(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  float sum = 0;
  for (std::int64_t i = 0; i < k / kQKK; ++i) {
    int scale[16];
    q3_k_scales(x[i].scales, scale);
    const __m256i hmask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].hmask));
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * h));
      for (int j = 0; j < 4; ++j) {
        const __m256i q2 = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * j), three);
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(hmask, 4 * h + j), one);
        const __m256i q = _mm256_or_si256(q2, _mm256_slli_epi16(high, 2));  // bit 2 set: q' = q2 + 4
        const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 128 * h + 32 * j));
        const int s = 8 * h + 2 * j;
        acc = _mm256_add_epi32(acc, low_bit::scaled_pair_sum(q, q8, scale[s], scale[s + 1]));
      }
    }
    int offset = 0;  // the -4 of every element, through the block sums
    for (int s = 0; s < 16; ++s) offset += scale[s] * y[i].bsums[s];
    const int scaled = low_bit::hsum_i32(acc) - 4 * offset;
    sum += y[i].d * (h2f(x[i].d) * static_cast<float>(scaled));  // Q3_K has no mins
  }
  return sum;
}

void install_q2_k(KernelTable& t) {
  t.at(DType::Q2_K).quantize = quantize_q8_k;
  t.at(DType::Q2_K).vec_dot = dot_q2_k;
}

void install_q3_k(KernelTable& t) {
  t.at(DType::Q3_K).quantize = quantize_q8_k;
  t.at(DType::Q3_K).vec_dot = dot_q3_k;
}
