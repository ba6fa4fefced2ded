// Q6_K weights (formats/q6_k.hpp) against Q8_K activations; prefill tiles in
// tile_k_avx512.inl / tile_k_avx2.inl.

// Q6_K . Q8_K: 6-bit quants with offset 32, int8 scales per 16 elements. The offset
// acts through the activation sums: sum (q - 32) a = sum q a - 32 sum a.
float dot_q6_k(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x30);
  __m256 acc = _mm256_setzero_ps();
  for (std::int64_t i = 0; i < k / kQKK; ++i) {
    __m256i sumi = _mm256_setzero_si256();
    int offset = 0;
    for (int s = 0; s < 16; ++s) offset += x[i].scales[s] * y[i].bsums[s];
    for (int h = 0; h < 2; ++h) {
      const std::uint8_t* ql = x[i].ql + 64 * h;
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh + 32 * h));
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m2)),
          _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m2)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(qh, m2)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2)),
      };
      for (int kq = 0; kq < 4; ++kq) {
        const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 128 * h + 32 * kq));
        const int s0 = x[i].scales[8 * h + 2 * kq], s1 = x[i].scales[8 * h + 2 * kq + 1];
        const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(s1)), _mm_set1_epi16(static_cast<short>(s0)));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(mul_u8_i8(q[kq], av), scale));
      }
    }
    sumi = _mm256_sub_epi32(sumi, _mm256_setr_epi32(32 * offset, 0, 0, 0, 0, 0, 0, 0));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

void install_q6_k(KernelTable& t) {
  WeightKernels& e = t.at(DType::Q6_K);
  e.quantize = quantize_q8_k;
  e.vec_dot = dot_q6_k;
  e.gemm = gemm_k<TileQ6K, kKTileRows, 4>;
}
