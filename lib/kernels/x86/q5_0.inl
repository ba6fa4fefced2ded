// Q5_0 weights (formats/q5_0.hpp) against Q8_0 activations.

float dot_q5_0(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    const __m256i q = _mm256_sub_epi8(_mm256_or_si256(unpack_nibbles(x[i].qs), q5_high_bits(x[i].qh)), _mm256_set1_epi8(16));
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), _mm256_cvtepi32_ps(dot_i8x32(q, qy)), acc);
  }
  return hsum(acc);
}


void install_q5_0(KernelTable& t) {
  t.at(DType::Q5_0).quantize = quantize_q8_0;
  t.at(DType::Q5_0).vec_dot = dot_q5_0;
}
