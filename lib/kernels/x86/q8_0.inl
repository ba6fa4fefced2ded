// Q8_0 weights (formats/q8_0.hpp) against Q8_0 activations. The prefill tile is
// tile_q8_avx512.inl / tile_q8_avx2.inl (shared with Q4_0).

float dot_q8_0(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    prefetch_ahead<sizeof(BlockQ8_0)>(x + i);
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs));
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
    const __m256 s = _mm256_cvtepi32_ps(dot_i8x32(qx, qy));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), s, acc);
  }
  return hsum(acc);
}


void install_q8_0(KernelTable& t) {
  WeightKernels& e = t.at(DType::Q8_0);
  e.quantize = quantize_q8_0;
  e.vec_dot = dot_q8_0;
  e.gemm = gemm_q8<false>;
  e.gemm_scratch = gemm_q8_scratch;
}
