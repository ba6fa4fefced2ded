// Q4_K weights (formats/q4_k.hpp) against Q8_K activations; prefill tiles in
// tile_k_avx512.inl / tile_k_avx2.inl.

// Q4_K . Q8_K: per 32-element sub-block j, sum q*a scaled by its 6-bit scale, in int32;
// the mins act through the activation block sums (bsums), as the scalar reference does.
float dot_q4_k(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i mask = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  float mins_total = 0;
  for (std::int64_t i = 0; i < k / kQKK; ++i) {
    std::uint8_t sc[8], mn[8];
    for (int j = 0; j < 8; ++j) k_scale_min(j, x[i].scales, sc[j], mn[j]);
    __m256i sumi = _mm256_setzero_si256();
    int mins = 0;
    for (int c = 0; c < 4; ++c) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * c));
      const __m256i lo = _mm256_and_si256(q, mask);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask);
      const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 64 * c));
      const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 64 * c + 32));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(mul_u8_i8(lo, a0), _mm256_set1_epi16(sc[2 * c])));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(mul_u8_i8(hi, a1), _mm256_set1_epi16(sc[2 * c + 1])));
      mins += mn[2 * c] * (y[i].bsums[4 * c] + y[i].bsums[4 * c + 1]) +
              mn[2 * c + 1] * (y[i].bsums[4 * c + 2] + y[i].bsums[4 * c + 3]);
    }
    const float d = y[i].d * h2f(x[i].d);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    mins_total += y[i].d * h2f(x[i].dmin) * static_cast<float>(mins);
  }
  return hsum(acc) - mins_total;
}


void install_q4_k(KernelTable& t) {
  WeightKernels& e = t.at(DType::Q4_K);
  e.quantize = quantize_q8_k;
  e.vec_dot = dot_q4_k;
  e.gemm = gemm_k<TileQ45K<false>, kKTileRows, 4>;
}
