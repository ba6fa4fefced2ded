// Activation rows converted to the weights' vec-dot partners (Q8_0, Q8_K), equal to the
// scalar reference (formats/q8_0.hpp, formats/q8_k.hpp) bit for bit.

// Q8_0 activations as llama.cpp's x86 path computes them (127/amax, ties to even).
void quantize_q8_0(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ8_0*>(out);
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int j = 0; j < 4; ++j) {
      v[j] = _mm256_loadu_ps(x + 8 * j);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_mask, v[j]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float max_scalar = _mm_cvtss_f32(m);
    const float d = max_scalar / 127.0f;
    const float id = max_scalar != 0.0f ? 127.0f / max_scalar : 0.0f;
    b[i].d = _cvtss_sh(d, 0);
    const __m256 mul = _mm256_set1_ps(id);
    __m256i q[4];
    for (int j = 0; j < 4; ++j)
      q[j] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[j], mul), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    // Pack 32-bit -> 16 -> 8 bits; packs interleave 128-bit lanes, so restore the order.
    const __m256i p01 = _mm256_packs_epi32(q[0], q[1]);
    const __m256i p23 = _mm256_packs_epi32(q[2], q[3]);
    __m256i p = _mm256_packs_epi16(p01, p23);
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs), p);
  }
}

// Q8_K activations, equal to the scalar reference bit for bit: the scale comes from the
// first element of largest magnitude (sign included), codes are round-to-nearest-even
// of iscale * x capped at 127, and each 16-element group's sum is exact in int32.
void quantize_q8_k(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ8_K*>(out);
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  for (std::int64_t i = 0; i < k / kQKK; ++i, x += kQKK) {
    __m256 amax_v = _mm256_setzero_ps();
    for (int j = 0; j < kQKK; j += 8) amax_v = _mm256_max_ps(amax_v, _mm256_andnot_ps(sign_mask, _mm256_loadu_ps(x + j)));
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax_v), _mm256_extractf128_ps(amax_v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float amax = _mm_cvtss_f32(m);
    if (amax == 0.0f) {
      std::memset(&b[i], 0, sizeof b[i]);
      continue;
    }
    // The reference keeps the first element whose magnitude is amax.
    float max = 0;
    const __m256 target = _mm256_set1_ps(amax);
    for (int j = 0; j < kQKK; j += 8) {
      const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign_mask, _mm256_loadu_ps(x + j)), target, _CMP_EQ_OQ));
      if (hit) {
        max = x[j + __builtin_ctz(static_cast<unsigned>(hit))];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m256 mul = _mm256_set1_ps(iscale), cap = _mm256_set1_ps(127.0f);
    for (int g = 0; g < 16; ++g) {
      __m256i q[2];
      for (int h = 0; h < 2; ++h) {
        const __m256 v = _mm256_mul_ps(mul, _mm256_loadu_ps(x + 16 * g + 8 * h));
        q[h] = _mm256_cvtps_epi32(_mm256_min_ps(cap, _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
      }
      const __m256i sum = _mm256_add_epi32(q[0], q[1]);
      __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
      s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
      s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
      b[i].bsums[g] = static_cast<std::int16_t>(_mm_cvtsi128_si32(s4));
      // 32 -> 16 -> 8 bits; packs work within 128-bit lanes, so fix the order after.
      const __m256i p16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(q[0], q[1]), 0xD8);
      const __m128i p8 = _mm_packs_epi16(_mm256_castsi256_si128(p16), _mm256_extracti128_si256(p16, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs + 16 * g), p8);
    }
    b[i].d = 1.0f / iscale;
  }
}
