// Q5_1 weights (formats/q5_1.hpp) against Q8_1 activations (scalar conversion).

float dot_q5_1(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0;
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    const __m256i q = _mm256_or_si256(unpack_nibbles(x[i].qs), q5_high_bits(x[i].qh));
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), _mm256_cvtepi32_ps(dot_u8_i8x32(q, qy)), acc);
    mins += h2f(x[i].m) * h2f(y[i].s);
  }
  return hsum(acc) + mins;
}


void install_q5_1(KernelTable& t) { t.at(DType::Q5_1).vec_dot = dot_q5_1; }
