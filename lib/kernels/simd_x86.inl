// Vector kernels shared by kernels_avx2.cpp and kernels_avx512.cpp. Included (not
// compiled on its own) inside a per-ISA namespace, with that file's ISA flags, so the
// same source becomes an AVX2 and an AVX-512 version. Float code uses xsimd with the
// architecture `Arch`; int8 dot products use intrinsics (xsimd has no maddubs / VNNI).
//
// Expects, before inclusion: `using Arch = xsimd::...;` in the enclosing namespace.

using FBatch = xsimd::batch<float, Arch>;
constexpr std::int64_t kLanes = static_cast<std::int64_t>(FBatch::size);

inline float h2f(std::uint16_t h) { return _cvtsh_ss(h); }

float dot_f32(const float* a, const float* b, std::int64_t n) {
  FBatch acc0(0.0f), acc1(0.0f);
  std::int64_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    acc0 = xsimd::fma(FBatch::load_unaligned(a + i), FBatch::load_unaligned(b + i), acc0);
    acc1 = xsimd::fma(FBatch::load_unaligned(a + i + kLanes), FBatch::load_unaligned(b + i + kLanes), acc1);
  }
  for (; i + kLanes <= n; i += kLanes)
    acc0 = xsimd::fma(FBatch::load_unaligned(a + i), FBatch::load_unaligned(b + i), acc0);
  float s = xsimd::hadd(acc0 + acc1);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy_f32(float alpha, const float* x, float* y, std::int64_t n) {
  const FBatch va(alpha);
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    xsimd::fma(va, FBatch::load_unaligned(x + i), FBatch::load_unaligned(y + i)).store_unaligned(y + i);
  for (; i < n; ++i) y[i] += alpha * x[i];
}

void axpy_f16(float alpha, const std::uint16_t* x, float* y, std::int64_t n) {
  const __m256 va = _mm256_set1_ps(alpha);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, xv, _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += alpha * _cvtsh_ss(x[i]);
}

// Scores of one query against n cached keys: four keys per pass share each load of q
// and keep four independent accumulator chains in flight.
void dot_rows_f32(const float* q, const float* k, std::int64_t stride, int n, std::int64_t len, float* out) {
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* k0 = k + j * stride;
    const float* k1 = k0 + stride;
    const float* k2 = k1 + stride;
    const float* k3 = k2 + stride;
    FBatch a0(0.0f), a1(0.0f), a2(0.0f), a3(0.0f);
    std::int64_t i = 0;
    for (; i + kLanes <= len; i += kLanes) {
      const FBatch qv = FBatch::load_unaligned(q + i);
      a0 = xsimd::fma(qv, FBatch::load_unaligned(k0 + i), a0);
      a1 = xsimd::fma(qv, FBatch::load_unaligned(k1 + i), a1);
      a2 = xsimd::fma(qv, FBatch::load_unaligned(k2 + i), a2);
      a3 = xsimd::fma(qv, FBatch::load_unaligned(k3 + i), a3);
    }
    float s0 = xsimd::hadd(a0), s1 = xsimd::hadd(a1), s2 = xsimd::hadd(a2), s3 = xsimd::hadd(a3);
    for (; i < len; ++i) s0 += q[i] * k0[i], s1 += q[i] * k1[i], s2 += q[i] * k2[i], s3 += q[i] * k3[i];
    out[j] = s0, out[j + 1] = s1, out[j + 2] = s2, out[j + 3] = s3;
  }
  for (; j < n; ++j) out[j] = dot_f32(q, k + j * stride, len);
}

// out = sum_j w[j] v_j: a 4-vector slice of out stays in registers over all n rows
// (an axpy per row would store and reload all of out for every key).
void weighted_sum_f32(const float* w, const float* v, std::int64_t stride, int n, std::int64_t len, float* out) {
  std::int64_t i = 0;
  for (; i + 4 * kLanes <= len; i += 4 * kLanes) {
    FBatch o0(0.0f), o1(0.0f), o2(0.0f), o3(0.0f);
    for (int j = 0; j < n; ++j) {
      const float* vj = v + j * stride + i;
      const FBatch wj(w[j]);
      o0 = xsimd::fma(wj, FBatch::load_unaligned(vj), o0);
      o1 = xsimd::fma(wj, FBatch::load_unaligned(vj + kLanes), o1);
      o2 = xsimd::fma(wj, FBatch::load_unaligned(vj + 2 * kLanes), o2);
      o3 = xsimd::fma(wj, FBatch::load_unaligned(vj + 3 * kLanes), o3);
    }
    o0.store_unaligned(out + i);
    o1.store_unaligned(out + i + kLanes);
    o2.store_unaligned(out + i + 2 * kLanes);
    o3.store_unaligned(out + i + 3 * kLanes);
  }
  for (; i + kLanes <= len; i += kLanes) {
    FBatch o(0.0f);
    for (int j = 0; j < n; ++j) o = xsimd::fma(FBatch(w[j]), FBatch::load_unaligned(v + j * stride + i), o);
    o.store_unaligned(out + i);
  }
  for (; i < len; ++i) {
    float o = 0.0f;
    for (int j = 0; j < n; ++j) o += w[j] * v[j * stride + i];
    out[i] = o;
  }
}

float dot_f32_w(std::int64_t k, const void* w, const void* a) {
  return dot_f32(static_cast<const float*>(w), static_cast<const float*>(a), k);
}

// Sum over 32 int8 pairs, as 8 int32 lanes: |x| * sign(y, x) keeps maddubs's unsigned
// operand non-negative; with VNNI one instruction does the multiply and the adds.
inline __m256i dot_i8x32(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, sy);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
#endif
}

inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// The 32 quants of a Q4_0 block as signed bytes in element order (low nibbles are
// elements 0..15, high nibbles 16..31), minus the offset 8.
inline __m256i unpack_q4(const std::uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_and_si128(packed, mask);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
  return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
}

float dot_q4_0(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    const __m256i qx = unpack_q4(x[i].qs);
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
    const __m256 s = _mm256_cvtepi32_ps(dot_i8x32(qx, qy));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), s, acc);
  }
  return hsum(acc);
}

// The 32 nibbles of a Q4/Q5 block as bytes in element order, without offset.
inline __m256i unpack_nibbles(const std::uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(packed, 4), mask), _mm_and_si128(packed, mask));
}

// Bit j of a Q5 block's qh as 16 in byte j (the fifth bit of element j).
inline __m256i q5_high_bits(const std::uint8_t* qh_bytes) {
  std::uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(qh)),
      _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

// Sum of (unsigned q) * (signed a) over 32 pairs, as 8 int32 lanes (q <= 31).
inline __m256i dot_u8_i8x32(__m256i q, __m256i a) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(q, a), _mm256_set1_epi16(1));
}

float dot_q4_1(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0;
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
    const __m256 s = _mm256_cvtepi32_ps(dot_u8_i8x32(unpack_nibbles(x[i].qs), qy));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), s, acc);
    mins += h2f(x[i].m) * h2f(y[i].s);
  }
  return hsum(acc) + mins;
}

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

float dot_q8_0(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs));
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
    const __m256 s = _mm256_cvtepi32_ps(dot_i8x32(qx, qy));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), s, acc);
  }
  return hsum(acc);
}

float dot_f16(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const std::uint16_t*>(w);
  const auto* y = static_cast<const std::uint16_t*>(a);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))),
                           _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i))), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8))),
                           _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i + 8))), acc1);
  }
  double s = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < k; ++i) s += static_cast<double>(h2f(x[i]) * h2f(y[i]));
  return static_cast<float>(s);
}

inline __m256 bf16x8_to_f32(const std::uint16_t* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

float dot_bf16(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const std::uint16_t*>(w);
  const auto* y = static_cast<const std::uint16_t*>(a);
  __m256 acc = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i + 8 <= k; i += 8) acc = _mm256_fmadd_ps(bf16x8_to_f32(x + i), bf16x8_to_f32(y + i), acc);
  double s = hsum(acc);
  for (; i < k; ++i) s += static_cast<double>(bf16_to_f32(x[i]) * bf16_to_f32(y[i]));
  return static_cast<float>(s);
}

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

// Sum over 32 (unsigned q, signed a) byte pairs, in 16 int16 lanes (pairs added):
// safe from saturation for q <= 63 (63 * 127 * 2 < 32767).
inline __m256i mul_u8_i8(__m256i q, __m256i a) { return _mm256_maddubs_epi16(q, a); }

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

// The eight 6-bit scales and mins of a Q4_K/Q5_K super-block as bytes. Sub-blocks 0..3
// keep theirs in the low 6 bits of bytes 0..3 (scales) and 4..7 (mins); sub-blocks 4..7
// have their low 4 bits in bytes 8..11 and their top 2 bits in the spare top bits of
// bytes 0..7. Done on 32-bit words, four sub-blocks at a time.
inline void k_scales_mins8(const std::uint8_t* q, std::uint64_t& sc, std::uint64_t& mn) {
  std::uint32_t w0, w1, w2;
  std::memcpy(&w0, q, 4);
  std::memcpy(&w1, q + 4, 4);
  std::memcpy(&w2, q + 8, 4);
  constexpr std::uint32_t low6 = 0x3F3F3F3Fu, low4 = 0x0F0F0F0Fu, bits45 = 0x30303030u;
  sc = (w0 & low6) | (static_cast<std::uint64_t>((w2 & low4) | ((w0 >> 2) & bits45)) << 32);
  mn = (w1 & low6) | (static_cast<std::uint64_t>(((w2 >> 4) & low4) | ((w1 >> 2) & bits45)) << 32);
}

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
// Prefill tile of R weight rows x T tokens for Q4_0 / Q8_0 weights against Q8_0
// activations, two 32-element blocks per 512-bit register (halving the instructions
// per element, which is what limits this loop). vpdpbusd multiplies unsigned by signed
// bytes, so the activations are made unsigned (a + 128, once per token and block pair)
// and the weights stay signed (Q4_0: nibble - 8); the excess 128 * sum(w) is removed by
// starting each row's sums at -128 sum(w), once per row and block pair. Each block's
// lanes are then scaled by its weight scale (one multiply) and its activation scale,
// read from a table laid out per block pair and token (the FMA's memory operand).
template <bool Q4>
struct TileQ8 {
  // Signed weights of blocks b and b + 1 of a row, in element order; with !pair only
  // block b, the upper half zero (so it adds nothing to any sum).
  static __m512i weights(const std::byte* row, std::int64_t b, bool pair, __m512& dw) {
    __m512i q;
    float d0, d1 = 0.0f;
    if constexpr (Q4) {
      const auto* blk = reinterpret_cast<const BlockQ4_0*>(row) + b;
      const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[0].qs));
      const __m128i hi = pair ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[1].qs)) : _mm_setzero_si128();
      // 16-byte lanes: block b's bytes twice, then block b + 1's twice; shifting odd
      // lanes by 4 leaves each block's low nibbles (elements 0..15) before its high ones.
      const __m512i twice = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3),
                                                     _mm512_castsi256_si512(_mm256_set_m128i(hi, lo)));
      const __m512i shift = _mm512_setr_epi64(0, 0, 0x0004000400040004LL, 0x0004000400040004LL, 0, 0,
                                              0x0004000400040004LL, 0x0004000400040004LL);
      q = _mm512_sub_epi8(_mm512_and_si512(_mm512_srlv_epi16(twice, shift), _mm512_set1_epi8(0x0F)), _mm512_set1_epi8(8));
      if (!pair) q = _mm512_inserti64x4(q, _mm256_setzero_si256(), 1);
      d0 = h2f(blk[0].d);
      if (pair) d1 = h2f(blk[1].d);
    } else {
      const auto* blk = reinterpret_cast<const BlockQ8_0*>(row) + b;
      const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[0].qs));
      const __m256i hi = pair ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[1].qs)) : _mm256_setzero_si256();
      q = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
      d0 = h2f(blk[0].d);
      if (pair) d1 = h2f(blk[1].d);
    }
    dw = _mm512_insertf32x8(_mm512_set1_ps(d0), _mm256_set1_ps(d1), 1);
    return q;
  }

  // da: per block pair, T rows of 16 floats (activation scales of the pair's blocks).
  template <int R, int T>
  static void tile(std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                   const float* da, float* y, std::int64_t ldy) {
    __m512 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    const __m512i ones = _mm512_set1_epi8(1), bias = _mm512_set1_epi8(static_cast<char>(0x80));
    for (std::int64_t b = 0; b < nb; b += 2) {
      const bool pair = b + 1 < nb;
      const float* dab = da + (b / 2) * (16 * T);
      __m512i av[T];
      for (int t = 0; t < T; ++t) {
        const auto* ab = reinterpret_cast<const BlockQ8_0*>(a + a_row * static_cast<std::size_t>(t)) + b;
        const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[0].qs));
        const __m256i hi = pair ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[1].qs)) : _mm256_setzero_si256();
        av[t] = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), bias);
      }
      for (int r = 0; r < R; ++r) {
        __m512 dw;
        const __m512i wq = weights(w + w_row * static_cast<std::size_t>(r), b, pair, dw);
        const __m512i start = _mm512_sub_epi32(_mm512_setzero_si512(),
                                               _mm512_slli_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, wq), 7));
        for (int t = 0; t < T; ++t) {
          const __m512 s = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(start, av[t], wq)), dw);
          acc[r][t] = _mm512_fmadd_ps(s, _mm512_load_ps(dab + 16 * t), acc[r][t]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) y[static_cast<std::int64_t>(t) * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
};

template <bool Q4, int R, int T>
void q8_token_tail(int n, std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a,
                   std::size_t a_row, const float* da, float* y, std::int64_t ldy) {
  if constexpr (T > 0) {
    if (n == T) return TileQ8<Q4>::template tile<R, T>(nb, w, w_row, a, a_row, da, y, ldy);
    q8_token_tail<Q4, R, T - 1>(n, nb, w, w_row, a, a_row, da, y, ldy);
  }
}

// Token tiles outer, row tiles inner (activations of a tile stay in L1 while the call's
// few weight rows stream from L2). The fp16 activation scales of a token tile are
// converted once, into the per-pair table every row tile reads.
template <bool Q4, int R, int T>
void gemm_q8(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a, std::size_t a_row,
             int tokens, float* y, std::int64_t ldy) {
  const std::int64_t nb = k / kQK, pairs = (nb + 1) / 2;
  struct alignas(64) Lanes { float v[16]; };
  thread_local std::vector<Lanes> table;
  if (table.size() < static_cast<std::size_t>(pairs * T)) table.resize(static_cast<std::size_t>(pairs * T));
  for (int t = 0; t < tokens; t += T) {
    const int nt = std::min(T, tokens - t);
    const std::byte* at = a + a_row * static_cast<std::size_t>(t);
    // Rows of the table are indexed [pair * nt + token], the stride the tile of nt tokens uses.
    for (int j = 0; j < nt; ++j) {
      const auto* ab = reinterpret_cast<const BlockQ8_0*>(at + a_row * static_cast<std::size_t>(j));
      for (std::int64_t p = 0; p < pairs; ++p) {
        const float d0 = h2f(ab[2 * p].d), d1 = 2 * p + 1 < nb ? h2f(ab[2 * p + 1].d) : 0.0f;
        _mm512_store_ps(table[static_cast<std::size_t>(p * nt + j)].v,
                        _mm512_insertf32x8(_mm512_set1_ps(d0), _mm256_set1_ps(d1), 1));
      }
    }
    const float* da = table.data()->v;
    float* yt = y + static_cast<std::int64_t>(t) * ldy;
    int r = 0;
    for (; r + R <= rows; r += R) {
      const std::byte* wr = w + w_row * static_cast<std::size_t>(r);
      if (nt == T) TileQ8<Q4>::template tile<R, T>(nb, wr, w_row, at, a_row, da, yt + r, ldy);
      else q8_token_tail<Q4, R, T - 1>(nt, nb, wr, w_row, at, a_row, da, yt + r, ldy);
    }
    for (; r < rows; ++r) {
      const std::byte* wr = w + w_row * static_cast<std::size_t>(r);
      if (nt == T) TileQ8<Q4>::template tile<1, T>(nb, wr, w_row, at, a_row, da, yt + r, ldy);
      else q8_token_tail<Q4, 1, T - 1>(nt, nb, wr, w_row, at, a_row, da, yt + r, ldy);
    }
  }
}

// 2 rows x 8 tokens: 16 accumulators and 8 activation pairs in registers; the per-row
// setup (unpack, scales, bias start) is shared by 8 tokens. Measured against 4 x 4:
// Q4_0 170 -> 205, Q8_0 219 -> 233 GOP/s (bench_kernels, 2048 x 2048, 512 tokens).
constexpr int kQ8TileRows = 2, kQ8TileTokens = 8;

// ---- K-quant prefill tiles (AVX-512 VNNI) -------------------------------------------
// A super-block of 256 weights is unpacked once per row into four 64-byte vectors of
// small unsigned quants and four matching vectors of 16-bit sub-block scales, then used
// for every token of the tile. Per 64 elements and (row, token) that is one vpmaddubsw
// (u8 x s8 -> pairs in s16; quants <= 63 and |a| <= 128 cannot saturate) and one
// vpdpwssd (times the scale, accumulated in s32), so the whole super-block is summed in
// integers and touches floats once. Tokens are the outer loop so the activations of a
// token tile stay in L1 while the (few) weight rows of the call stream from L2.

// 16-bit words: the first 16 hold a, the last 16 hold b.
inline __m512i halves_epi16(short a, short b) {
  return _mm512_inserti64x4(_mm512_set1_epi16(a), _mm256_set1_epi16(b), 1);
}

inline __m512 zext_ps(__m256 v) { return _mm512_insertf32x8(_mm512_setzero_ps(), v, 0); }

// Q4_K and Q5_K: 32 packed bytes hold elements 64c..64c+31 in their low nibbles and
// 64c+32..64c+63 in their high nibbles; broadcasting them to both halves of a register
// and shifting the upper half by 4 puts all 64 in element order.
template <bool Q5>
struct TileQ45K {
  using Block = std::conditional_t<Q5, BlockQ5_K, BlockQ4_K>;

  template <int R, int T>
  static void tile(std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                   float* y, std::int64_t ldy) {
    __m512 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    const __m512i nib = _mm512_set1_epi8(0x0F);
    const __m512i shift_hi = halves_epi16(0, 4);
    for (std::int64_t b = 0; b < nb; ++b) {
      const BlockQ8_K* ab[T];
      __m512 bsum[T];  // activation sum of each 32-element sub-block, for the mins
      for (int t = 0; t < T; ++t) {
        ab[t] = reinterpret_cast<const BlockQ8_K*>(a + a_row * static_cast<std::size_t>(t)) + b;
        const __m256i s16 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[t]->bsums));
        bsum[t] = zext_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(s16, _mm256_set1_epi16(1))));
      }
      for (int r = 0; r < R; ++r) {
        const Block* wb = reinterpret_cast<const Block*>(w + w_row * static_cast<std::size_t>(r)) + b;
        std::uint64_t sc, mn;
        k_scales_mins8(wb->scales, sc, mn);
        // The 8 scales as words, repeated in every 128-bit lane, picked per chunk below.
        const __m512i sc16 = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(sc))));
        const __m512 mins = zext_ps(_mm256_mul_ps(
            _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(mn)))),
            _mm256_set1_ps(h2f(wb->dmin))));
        const __m512 dw = _mm512_set1_ps(h2f(wb->d));
        __m512i q[4], s[4];
        [[maybe_unused]] __m512i qh;
        if constexpr (Q5) qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qh)));
        for (int c = 0; c < 4; ++c) {
          const __m512i packed = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qs + 32 * c)));
          q[c] = _mm512_and_si512(_mm512_srlv_epi16(packed, shift_hi), nib);
          if constexpr (Q5) {
            // Bit 2c of qh[l] is the fifth bit of element 64c+l, bit 2c+1 that of 64c+32+l.
            const __mmask64 high = _mm512_test_epi8_mask(
                qh, _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1 << (2 * c))),
                                       _mm256_set1_epi8(static_cast<char>(1 << (2 * c + 1))), 1));
            q[c] = _mm512_mask_add_epi8(q[c], high, q[c], _mm512_set1_epi8(16));
          }
          s[c] = _mm512_permutexvar_epi16(halves_epi16(static_cast<short>(2 * c), static_cast<short>(2 * c + 1)), sc16);
        }
        for (int t = 0; t < T; ++t) {
          __m512i sum = _mm512_setzero_si512();
          for (int c = 0; c < 4; ++c) {
            const __m512i av = _mm512_loadu_si512(ab[t]->qs + 64 * c);
            sum = _mm512_dpwssd_epi32(sum, _mm512_maddubs_epi16(q[c], av), s[c]);
          }
          // d * sum(sc q a) - dmin * sum(mn bsum), both times the activation scale.
          const __m512 v = _mm512_fnmadd_ps(mins, bsum[t], _mm512_mul_ps(dw, _mm512_cvtepi32_ps(sum)));
          acc[r][t] = _mm512_fmadd_ps(v, _mm512_set1_ps(ab[t]->d), acc[r][t]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) y[static_cast<std::int64_t>(t) * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
};

// Q6_K: ql's 64 bytes of each 128-element half hold elements 0..63 of the half in their
// low nibbles and 64..127 in their high nibbles; qh's 32 bytes supply two bits to each,
// at bit pairs 0/2 (first 64, halves of 32) and 4/6 (last 64). The quants carry an
// offset of 32, removed through the activation sums: sum (q - 32) a sc = sum q a sc -
// 32 sum sc bsum, which starts each accumulator.
struct TileQ6K {
  template <int R, int T>
  static void tile(std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                   float* y, std::int64_t ldy) {
    __m512 acc[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    const __m512i nib = _mm512_set1_epi8(0x0F), top2 = _mm512_set1_epi8(0x30);
    const __m512i shl_first = halves_epi16(4, 2), shr_last = halves_epi16(0, 2);
    for (std::int64_t b = 0; b < nb; ++b) {
      const BlockQ8_K* ab[T];
      __m512i bsum[T];  // the 16 activation sums as words, upper half zero
      for (int t = 0; t < T; ++t) {
        ab[t] = reinterpret_cast<const BlockQ8_K*>(a + a_row * static_cast<std::size_t>(t)) + b;
        bsum[t] = _mm512_inserti64x4(_mm512_setzero_si512(),
                                     _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[t]->bsums)), 0);
      }
      for (int r = 0; r < R; ++r) {
        const BlockQ6_K* wb = reinterpret_cast<const BlockQ6_K*>(w + w_row * static_cast<std::size_t>(r)) + b;
        const __m256i sc256 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wb->scales)));
        const __m512i sc16 = _mm512_broadcast_i64x4(sc256);
        const __m512i offset_sc = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_slli_epi16(sc256, 5), 0);
        __m512i q[4], s[4];
        for (int h = 0; h < 2; ++h) {
          const __m512i ql = _mm512_loadu_si512(wb->ql + 64 * h);
          const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qh + 32 * h)));
          q[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, nib), _mm512_and_si512(_mm512_sllv_epi16(qh, shl_first), top2));
          q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), nib),
                                         _mm512_and_si512(_mm512_srlv_epi16(qh, shr_last), top2));
        }
        for (int g = 0; g < 4; ++g) {
          // Words 8i..8i+7 (elements 16i..16i+15 of the chunk) take scale 4g+i.
          const __m512i idx = _mm512_inserti64x4(
              _mm512_castsi256_si512(_mm256_set_m128i(_mm_set1_epi16(static_cast<short>(4 * g + 1)),
                                                      _mm_set1_epi16(static_cast<short>(4 * g)))),
              _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(4 * g + 3)), _mm_set1_epi16(static_cast<short>(4 * g + 2))),
              1);
          s[g] = _mm512_permutexvar_epi16(idx, sc16);
        }
        const __m512 dw = _mm512_set1_ps(h2f(wb->d));
        for (int t = 0; t < T; ++t) {
          __m512i sum = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_madd_epi16(bsum[t], offset_sc));
          for (int g = 0; g < 4; ++g) {
            const __m512i av = _mm512_loadu_si512(ab[t]->qs + 64 * g);
            sum = _mm512_dpwssd_epi32(sum, _mm512_maddubs_epi16(q[g], av), s[g]);
          }
          acc[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(ab[t]->d)), _mm512_cvtepi32_ps(sum), acc[r][t]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) y[static_cast<std::int64_t>(t) * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
};

#else
// ---- Q4_0 / Q8_0 prefill tile (AVX2) --------------------------------------------------
// One weight row by T tokens. Signed weights (Q4_0: nibble - 8) meet signed activations
// through vpmaddubsw's sign trick: |w| times a with w's sign. The products of the two
// fp16 scales come from one multiply per block (all tokens' activation scales, from a
// table built once per token tile) and a lane permute per token.
template <bool Q4>
struct TileQ8 {
  template <int T>
  static void tile(std::int64_t nb, const std::byte* w, const std::byte* a, std::size_t a_row, const float* da,
                   float* y, std::int64_t ldy) {
    static_assert(T <= 8, "activation scales of a tile share one 8-lane vector");
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
      __m256i wq;
      std::uint16_t dw_h;
      if constexpr (Q4) {
        const auto* wb = reinterpret_cast<const BlockQ4_0*>(w) + b;
        wq = unpack_q4(wb->qs);
        dw_h = wb->d;
      } else {
        const auto* wb = reinterpret_cast<const BlockQ8_0*>(w) + b;
        wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qs));
        dw_h = wb->d;
      }
      const __m256i aw = _mm256_sign_epi8(wq, wq);
      const __m256 dd = _mm256_mul_ps(_mm256_set1_ps(h2f(dw_h)), _mm256_load_ps(da + 8 * b));
      for (int t = 0; t < T; ++t) {
        const auto* ab = reinterpret_cast<const BlockQ8_0*>(a + a_row * static_cast<std::size_t>(t)) + b;
        const __m256i sa = _mm256_sign_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab->qs)), wq);
        const __m256i sum = _mm256_madd_epi16(_mm256_maddubs_epi16(aw, sa), _mm256_set1_epi16(1));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_permutevar8x32_ps(dd, _mm256_set1_epi32(t)), acc[t]);
      }
    }
    for (int t = 0; t < T; ++t) y[static_cast<std::int64_t>(t) * ldy] = hsum(acc[t]);
  }
};

template <bool Q4, int T>
void q8_token_tail(int n, std::int64_t nb, const std::byte* w, const std::byte* a, std::size_t a_row, const float* da,
                   float* y, std::int64_t ldy) {
  if constexpr (T > 0) {
    if (n == T) return TileQ8<Q4>::template tile<T>(nb, w, a, a_row, da, y, ldy);
    q8_token_tail<Q4, T - 1>(n, nb, w, a, a_row, da, y, ldy);
  }
}

// Token tiles outer, rows inner; the activation scales of a token tile are converted
// once into an [block][8] table.
template <bool Q4, int T>
void gemm_q8(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a, std::size_t a_row,
             int tokens, float* y, std::int64_t ldy) {
  const std::int64_t nb = k / kQK;
  struct alignas(32) Lanes { float v[8]; };
  thread_local std::vector<Lanes> table;
  if (table.size() < static_cast<std::size_t>(nb)) table.resize(static_cast<std::size_t>(nb));
  for (int t = 0; t < tokens; t += T) {
    const int nt = std::min(T, tokens - t);
    const std::byte* at = a + a_row * static_cast<std::size_t>(t);
    for (int j = 0; j < nt; ++j) {
      const auto* ab = reinterpret_cast<const BlockQ8_0*>(at + a_row * static_cast<std::size_t>(j));
      for (std::int64_t b = 0; b < nb; ++b) table[static_cast<std::size_t>(b)].v[j] = h2f(ab[b].d);
    }
    const float* da = table.data()->v;
    float* yt = y + static_cast<std::int64_t>(t) * ldy;
    for (int r = 0; r < rows; ++r) {
      const std::byte* wr = w + w_row * static_cast<std::size_t>(r);
      if (nt == T) TileQ8<Q4>::template tile<T>(nb, wr, at, a_row, da, yt + r, ldy);
      else q8_token_tail<Q4, T - 1>(nt, nb, wr, at, a_row, da, yt + r, ldy);
    }
  }
}

// ---- K-quant prefill tiles (AVX2) ---------------------------------------------------
// Without VNNI, and with 16 vector registers: one weight row per tile, T tokens. Each
// 32-element chunk is unpacked once for the T tokens; per chunk and token vpmaddubsw
// (u8 x s8 -> s16 pairs) then vpmaddwd by the sub-block scale (-> s32), summed over
// the super-block in integers as in the AVX-512 tiles.

template <bool Q5>
struct TileQ45K {
  using Block = std::conditional_t<Q5, BlockQ5_K, BlockQ4_K>;

  template <int R, int T>
  static void tile(std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                   float* y, std::int64_t ldy) {
    static_assert(R == 1, "one row per AVX2 tile");
    (void)w_row;
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    const __m256i nib = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    for (std::int64_t b = 0; b < nb; ++b) {
      const Block* wb = reinterpret_cast<const Block*>(w) + b;
      const BlockQ8_K* ab[T];
      for (int t = 0; t < T; ++t) ab[t] = reinterpret_cast<const BlockQ8_K*>(a + a_row * static_cast<std::size_t>(t)) + b;
      std::uint64_t sc_bits, mn_bits;
      k_scales_mins8(wb->scales, sc_bits, mn_bits);
      std::uint8_t sc[8];
      std::memcpy(sc, &sc_bits, 8);
      [[maybe_unused]] __m256i qh;
      if constexpr (Q5) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qh));
      __m256i sum[T];
      for (int t = 0; t < T; ++t) sum[t] = _mm256_setzero_si256();
      for (int c = 0; c < 4; ++c) {
        const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qs + 32 * c));
        __m256i lo = _mm256_and_si256(packed, nib);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), nib);
        if constexpr (Q5) {
          // Bit 2c / 2c+1 of qh[l] is the fifth bit of element 64c+l / 64c+32+l.
          lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4));
          hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4));
        }
        const __m256i s_lo = _mm256_set1_epi16(sc[2 * c]), s_hi = _mm256_set1_epi16(sc[2 * c + 1]);
        for (int t = 0; t < T; ++t) {
          const auto* av = reinterpret_cast<const __m256i*>(ab[t]->qs + 64 * c);
          sum[t] = _mm256_add_epi32(sum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(lo, _mm256_loadu_si256(av)), s_lo));
          sum[t] = _mm256_add_epi32(sum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(hi, _mm256_loadu_si256(av + 1)), s_hi));
        }
      }
      const __m256 mins = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(mn_bits)))),
                                        _mm256_set1_ps(h2f(wb->dmin)));
      const __m256 dw = _mm256_set1_ps(h2f(wb->d));
      for (int t = 0; t < T; ++t) {
        const __m256i s16 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[t]->bsums));
        const __m256 bsum = _mm256_cvtepi32_ps(_mm256_madd_epi16(s16, _mm256_set1_epi16(1)));
        const __m256 v = _mm256_fnmadd_ps(mins, bsum, _mm256_mul_ps(dw, _mm256_cvtepi32_ps(sum[t])));
        acc[t] = _mm256_fmadd_ps(v, _mm256_set1_ps(ab[t]->d), acc[t]);
      }
    }
    for (int t = 0; t < T; ++t) y[static_cast<std::int64_t>(t) * ldy] = hsum(acc[t]);
  }
};

// Q6_K as dot_q6_k lays it out, one row by T tokens; the offset of 32 enters through
// the activation sums (sum (q - 32) a sc = sum q a sc - 32 sum sc bsum).
struct TileQ6K {
  template <int R, int T>
  static void tile(std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                   float* y, std::int64_t ldy) {
    static_assert(R == 1, "one row per AVX2 tile");
    (void)w_row;
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x30);
    for (std::int64_t b = 0; b < nb; ++b) {
      const BlockQ6_K* wb = reinterpret_cast<const BlockQ6_K*>(w) + b;
      const BlockQ8_K* ab[T];
      const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wb->scales)));
      __m256i sum[T];
      for (int t = 0; t < T; ++t) {
        ab[t] = reinterpret_cast<const BlockQ8_K*>(a + a_row * static_cast<std::size_t>(t)) + b;
        const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[t]->bsums));
        sum[t] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5));
      }
      for (int h = 0; h < 2; ++h) {
        const std::uint8_t* ql = wb->ql + 64 * h;
        const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
        const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb->qh + 32 * h));
        for (int kq = 0; kq < 4; ++kq) {
          const __m256i l = kq & 1 ? l1 : l0;
          const __m256i low = kq < 2 ? _mm256_and_si256(l, m4) : _mm256_and_si256(_mm256_srli_epi16(l, 4), m4);
          // Bits 2kq, 2kq+1 of qh move to bits 4, 5.
          const __m256i high = kq == 0   ? _mm256_slli_epi16(qh, 4)
                               : kq == 1 ? _mm256_slli_epi16(qh, 2)
                               : kq == 2 ? qh
                                         : _mm256_srli_epi16(qh, 2);
          const __m256i q = _mm256_or_si256(low, _mm256_and_si256(high, m2));
          const int s0 = wb->scales[8 * h + 2 * kq], s1 = wb->scales[8 * h + 2 * kq + 1];
          const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(s1)), _mm_set1_epi16(static_cast<short>(s0)));
          for (int t = 0; t < T; ++t) {
            const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[t]->qs + 128 * h + 32 * kq));
            sum[t] = _mm256_add_epi32(sum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(q, av), scale));
          }
        }
      }
      const float dw = h2f(wb->d);
      for (int t = 0; t < T; ++t)
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * ab[t]->d), _mm256_cvtepi32_ps(sum[t]), acc[t]);
    }
    for (int t = 0; t < T; ++t) y[static_cast<std::int64_t>(t) * ldy] = hsum(acc[t]);
  }
};
#endif

// Runs Tile::tile<R, n> for a token tail of n < T tokens (compile-time sizes).
template <class Tile, int R, int T>
void token_tail(int n, std::int64_t nb, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                float* y, std::int64_t ldy) {
  if constexpr (T > 0) {
    if (n == T) return Tile::template tile<R, T>(nb, w, w_row, a, a_row, y, ldy);
    token_tail<Tile, R, T - 1>(n, nb, w, w_row, a, a_row, y, ldy);
  }
}

// A GemmFn from a tile of R rows x T tokens: token tiles outer (their activations stay
// hot), row tiles inner; tails use smaller compile-time tiles.
template <class Tile, int R, int T>
void gemm_k(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a, std::size_t a_row,
            int tokens, float* y, std::int64_t ldy) {
  const std::int64_t nb = k / kQKK;
  for (int t = 0; t < tokens; t += T) {
    const int nt = std::min(T, tokens - t);
    const std::byte* at = a + a_row * static_cast<std::size_t>(t);
    float* yt = y + static_cast<std::int64_t>(t) * ldy;
    int r = 0;
    for (; r + R <= rows; r += R) {
      const std::byte* wr = w + w_row * static_cast<std::size_t>(r);
      if (nt == T) Tile::template tile<R, T>(nb, wr, w_row, at, a_row, yt + r, ldy);
      else token_tail<Tile, R, T - 1>(nt, nb, wr, w_row, at, a_row, yt + r, ldy);
    }
    for (; r < rows; ++r) {
      const std::byte* wr = w + w_row * static_cast<std::size_t>(r);
      if (nt == T) Tile::template tile<1, T>(nb, wr, w_row, at, a_row, yt + r, ldy);
      else token_tail<Tile, 1, T - 1>(nt, nb, wr, w_row, at, a_row, yt + r, ldy);
    }
  }
}

#include "kernels/simd_x86_float_gemm.inl"
#include "kernels/simd_x86_low_bit.inl"

KernelTable make_table() {
  KernelTable t = scalar_table();
  t.dot_f32 = dot_f32;
  t.axpy_f32 = axpy_f32;
  t.axpy_f16 = axpy_f16;
  t.dot_rows_f32 = dot_rows_f32;
  t.weighted_sum_f32 = weighted_sum_f32;
  t.f32.vec_dot = dot_f32_w;
  t.f16.vec_dot = dot_f16;
  t.bf16.vec_dot = dot_bf16;
  t.q2_k.vec_dot = dot_q2_k;
  t.q3_k.vec_dot = dot_q3_k;
  t.f32.gemm = GemmF32::gemm;
  t.f16.gemm = GemmF16::gemm;
  t.q4_0 = {DType::Q8_0, quantize_q8_0, dot_q4_0};
  t.q8_0 = {DType::Q8_0, quantize_q8_0, dot_q8_0};
  t.q5_0 = {DType::Q8_0, quantize_q8_0, dot_q5_0};
  t.q4_1.vec_dot = dot_q4_1;
  t.q5_1.vec_dot = dot_q5_1;
  t.q2_k.quantize = quantize_q8_k;
  t.q3_k.quantize = quantize_q8_k;
  t.q4_k.quantize = quantize_q8_k;
  t.q5_k.quantize = quantize_q8_k;
  t.q6_k.quantize = quantize_q8_k;
  t.q4_k.vec_dot = dot_q4_k;
  t.q6_k.vec_dot = dot_q6_k;
  t.q5_k.vec_dot = dot_q5_k;
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  t.q4_0.gemm = gemm_q8<true, kQ8TileRows, kQ8TileTokens>;
  t.q8_0.gemm = gemm_q8<false, kQ8TileRows, kQ8TileTokens>;
  t.q4_k.gemm = gemm_k<TileQ45K<false>, 4, 4>;
  t.q5_k.gemm = gemm_k<TileQ45K<true>, 4, 4>;
  t.q6_k.gemm = gemm_k<TileQ6K, 4, 4>;
#else
  t.q4_0.gemm = gemm_q8<true, 4>;
  t.q8_0.gemm = gemm_q8<false, 4>;
  t.q4_k.gemm = gemm_k<TileQ45K<false>, 1, 4>;
  t.q5_k.gemm = gemm_k<TileQ45K<true>, 1, 4>;
  t.q6_k.gemm = gemm_k<TileQ6K, 1, 4>;
#endif
  return t;
}
