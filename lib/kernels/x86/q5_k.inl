// Q5_K weights (formats/q5_k.hpp) against Q8_K activations; prefill tiles in
// tile_k_avx512.inl / tile_k_avx2.inl.

// Q5_K . Q8_K: as Q4_K, with bit 2c / 2c+1 of qh adding 16 to the low / high nibbles of
// chunk c (q <= 31, still safe for maddubs).
float dot_q5_k(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i mask = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  float mins_total = 0;
  for (std::int64_t i = 0; i < k / kQKK; ++i) {
    std::uint8_t sc[8], mn[8];
    for (int j = 0; j < 8; ++j) k_scale_min(j, x[i].scales, sc[j], mn[j]);
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh));
    __m256i sumi = _mm256_setzero_si256();
    int mins = 0;
    for (int c = 0; c < 4; ++c) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * c));
      // srli_epi16 then a one-bit mask keeps each byte's own bit (shifts are < 8).
      const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4);
      const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, mask), h0);
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), mask), h1);
      const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 64 * c));
      const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 64 * c + 32));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(mul_u8_i8(lo, a0), _mm256_set1_epi16(sc[2 * c])));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(mul_u8_i8(hi, a1), _mm256_set1_epi16(sc[2 * c + 1])));
      mins += mn[2 * c] * (y[i].bsums[4 * c] + y[i].bsums[4 * c + 1]) +
              mn[2 * c + 1] * (y[i].bsums[4 * c + 2] + y[i].bsums[4 * c + 3]);
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    mins_total += y[i].d * h2f(x[i].dmin) * static_cast<float>(mins);
  }
  return hsum(acc) - mins_total;
}


void install_q5_k(KernelTable& t) {
  WeightKernels& e = t.at(DType::Q5_K);
  e.quantize = quantize_q8_k;
  e.vec_dot = dot_q5_k;
  e.gemm = gemm_k<TileQ45K<true>, kKTileRows, 4>;
}
