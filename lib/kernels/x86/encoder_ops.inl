// Encoder row steps (kernels/encoder_ops.hpp). LayerNorm sums in float over the vector's
// lanes (the reference sums in double): within a few ulps of the reference for the
// widths encoders use. GELU looks up the same table entries as the reference, bit for bit.

// o + bias + x, each of o and bias possibly absent, for the vector at i.
template <bool O, bool Bias>
inline FBatch residual_sum(const float* x, const float* o, const float* bias, std::int64_t i) {
  FBatch a(0.0f);
  if constexpr (O) a = FBatch::load_unaligned(o + i);
  if constexpr (Bias) a += FBatch::load_unaligned(bias + i);
  return a + FBatch::load_unaligned(x + i);
}

template <bool O, bool Bias>
void add_norm_impl(float* x, const float* o, const float* bias, const float* weight, const float* norm_bias, float eps,
                   std::int64_t n) {
  FBatch s0(0.0f), s1(0.0f);
  float tail_sum = 0.0f;
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const FBatch v = residual_sum<O, Bias>(x, o, bias, i);
    v.store_unaligned(x + i);
    if ((i / kLanes) % 2 == 0) s0 += v; else s1 += v;
  }
  const std::int64_t vec_end = i;
  for (; i < n; ++i) {
    x[i] = ((O ? o[i] : 0.0f) + (Bias ? bias[i] : 0.0f)) + x[i];
    tail_sum += x[i];
  }
  const float mean = (xsimd::hadd(s0 + s1) + tail_sum) / static_cast<float>(n);
  const FBatch vm(mean);
  FBatch q0(0.0f), q1(0.0f);
  float tail_sq = 0.0f;
  for (i = 0; i < vec_end; i += kLanes) {
    const FBatch d = FBatch::load_unaligned(x + i) - vm;
    if ((i / kLanes) % 2 == 0) q0 = xsimd::fma(d, d, q0); else q1 = xsimd::fma(d, d, q1);
  }
  for (; i < n; ++i) tail_sq += (x[i] - mean) * (x[i] - mean);
  const float scale = 1.0f / std::sqrt((xsimd::hadd(q0 + q1) + tail_sq) / static_cast<float>(n) + eps);
  const FBatch vs(scale);
  for (i = 0; i < vec_end; i += kLanes) {
    const FBatch y = (FBatch::load_unaligned(x + i) - vm) * vs * FBatch::load_unaligned(weight + i);
    (norm_bias ? y + FBatch::load_unaligned(norm_bias + i) : y).store_unaligned(x + i);
  }
  for (; i < n; ++i) x[i] = ((x[i] - mean) * scale) * weight[i] + (norm_bias ? norm_bias[i] : 0.0f);
}

void add_norm(float* x, const float* o, const float* bias, const float* weight, const float* norm_bias, float eps,
              std::int64_t n) {
  if (o && bias) return add_norm_impl<true, true>(x, o, bias, weight, norm_bias, eps, n);
  if (o) return add_norm_impl<true, false>(x, o, bias, weight, norm_bias, eps, n);
  if (bias) return add_norm_impl<false, true>(x, o, bias, weight, norm_bias, eps, n);
  add_norm_impl<false, false>(x, o, bias, weight, norm_bias, eps, n);
}

// GELU of 8 (AVX2) or 16 (AVX-512) sums: round to fp16 (F16C, to nearest even as
// f32_to_fp16), gather the table entries, then the two saturated ends.
void bias_gelu(float* x, const float* bias, const float* table, std::int64_t n) {
  std::int64_t i = 0;
#if defined(__AVX512F__)
  const __m512 lo = _mm512_set1_ps(-10.0f), hi = _mm512_set1_ps(10.0f);
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_loadu_ps(x + i);
    if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + i));
    const __m512i idx = _mm512_cvtepu16_epi32(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __mmask16 mid = _mm512_cmp_ps_mask(v, hi, _CMP_LT_OQ) & _mm512_cmp_ps_mask(v, lo, _CMP_GT_OQ);
    __m512 y = _mm512_mask_i32gather_ps(v, mid, idx, table, 4);
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, lo, _CMP_LE_OQ), y, _mm512_setzero_ps());
    _mm512_storeu_ps(x + i, y);
  }
#else
  const __m256 lo = _mm256_set1_ps(-10.0f), hi = _mm256_set1_ps(10.0f);
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + i));
    const __m256i idx = _mm256_cvtepu16_epi32(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __m256 mid = _mm256_and_ps(_mm256_cmp_ps(v, hi, _CMP_LT_OQ), _mm256_cmp_ps(v, lo, _CMP_GT_OQ));
    __m256 y = _mm256_mask_i32gather_ps(v, table, idx, mid, 4);
    y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(v, lo, _CMP_LE_OQ));
    _mm256_storeu_ps(x + i, y);
  }
#endif
  for (; i < n; ++i) {
    const float v = bias ? x[i] + bias[i] : x[i];
    x[i] = v <= -10.0f ? 0.0f : v < 10.0f ? table[f32_to_fp16(v)] : v;
  }
}

void install_encoder_ops(KernelTable& t) {
  t.add_norm = add_norm;
  t.bias_gelu = bias_gelu;
}
