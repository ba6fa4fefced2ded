// F32, F16 and BF16 weights and the f32 / f16 vector helpers of attention and norms.
// Float code uses xsimd with the architecture `Arch` where it maps one to one.

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

#if defined(__AVX512F__)
inline __m512 f16x16_to_f32(const std::uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

inline __m512 bf16x16_to_f32(const std::uint16_t* p) {
  const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}

inline float h2f_one(std::uint16_t h) { return h2f(h); }
inline float bf16_one(std::uint16_t h) { return bf16_to_f32(h); }

// Dot of two 16-bit float rows (F16 or BF16, by Convert / One). A one-token matmul streams
// each weight row once, and what bounds it is how far ahead the core can run its loads:
// 512-bit conversions take half the instructions per byte of 256-bit ones, and a
// four-step unroll keeps two cache lines of weights in flight. One 16-lane accumulator,
// lane j summing elements i + j, reduced as its two 8-lane halves: the arithmetic of the
// AVX-512 float gemm tile (float_gemm.inl), so a token gets the same logits alone or in a
// batch.
template <__m512 (*Convert)(const std::uint16_t*), float (*One)(std::uint16_t)>
float dot_16bit(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const std::uint16_t*>(w);
  const auto* y = static_cast<const std::uint16_t*>(a);
  __m512 acc = _mm512_setzero_ps();
  std::int64_t i = 0;
  for (; i + 64 <= k; i += 64) {
    prefetch_ahead<128>(x + i);
    acc = _mm512_fmadd_ps(Convert(x + i), Convert(y + i), acc);
    acc = _mm512_fmadd_ps(Convert(x + i + 16), Convert(y + i + 16), acc);
    acc = _mm512_fmadd_ps(Convert(x + i + 32), Convert(y + i + 32), acc);
    acc = _mm512_fmadd_ps(Convert(x + i + 48), Convert(y + i + 48), acc);
  }
  for (; i + 16 <= k; i += 16) acc = _mm512_fmadd_ps(Convert(x + i), Convert(y + i), acc);
  const __m256 lo = _mm512_castps512_ps256(acc);
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1));
  double s = hsum(_mm256_add_ps(lo, hi));
  for (; i < k; ++i) s += static_cast<double>(One(x[i]) * One(y[i]));
  return static_cast<float>(s);
}

float dot_f16(std::int64_t k, const void* w, const void* a) { return dot_16bit<f16x16_to_f32, h2f_one>(k, w, a); }
float dot_bf16(std::int64_t k, const void* w, const void* a) { return dot_16bit<bf16x16_to_f32, bf16_one>(k, w, a); }

// bf16 -> f32 (exact: a bf16 is the top half of a float), for the gemm's converted rows.
void bf16_to_f32_row(const std::uint16_t* x, float* y, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, bf16x16_to_f32(x + i));
  for (; i < n; ++i) y[i] = bf16_to_f32(x[i]);
}
#else
float dot_f16(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const std::uint16_t*>(w);
  const auto* y = static_cast<const std::uint16_t*>(a);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    prefetch_ahead<32>(x + i);
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
  for (; i + 8 <= k; i += 8) {
    prefetch_ahead<16>(x + i);
    acc = _mm256_fmadd_ps(bf16x8_to_f32(x + i), bf16x8_to_f32(y + i), acc);
  }
  double s = hsum(acc);
  for (; i < k; ++i) s += static_cast<double>(bf16_to_f32(x[i]) * bf16_to_f32(y[i]));
  return static_cast<float>(s);
}

#endif

// f16 -> f32 (exact) and f32 -> f16 rounded to nearest even, as fp16.hpp's scalar
// conversions (NaN stays a quiet NaN with its top payload bits, overflow -> inf,
// subnormals rounded the same: F16C's conversion with round-to-nearest is that one).
void f16_to_f32_row(const std::uint16_t* x, float* y, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  for (; i < n; ++i) y[i] = h2f(x[i]);
}

void quantize_f16(const float* x, void* out, std::int64_t n) {
  auto* h = static_cast<std::uint16_t*>(out);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < n; ++i) h[i] = f32_to_fp16(x[i]);
}

#include "kernels/x86/float_gemm.inl"

std::size_t gemm_f16_scratch(std::int64_t k) { return GemmF16::scratch(k); }
#if defined(__AVX512F__)
std::size_t gemm_bf16_scratch(std::int64_t k) { return GemmBF16::scratch(k); }
#endif

void install_float(KernelTable& t) {
  t.dot_f32 = dot_f32;
  t.axpy_f32 = axpy_f32;
  t.axpy_f16 = axpy_f16;
  t.dot_rows_f32 = dot_rows_f32;
  t.weighted_sum_f32 = weighted_sum_f32;
  t.at(DType::F32).vec_dot = dot_f32_w;
  t.at(DType::F32).gemm = GemmF32::gemm;
  t.at(DType::F16).vec_dot = dot_f16;
  t.at(DType::F16).gemm = GemmF16::gemm;
  t.at(DType::F16).gemm_scratch = gemm_f16_scratch;
  t.at(DType::F16).quantize = quantize_f16;
  t.at(DType::BF16).vec_dot = dot_bf16;
#if defined(__AVX512F__)
  t.at(DType::BF16).gemm = GemmBF16::gemm;
  t.at(DType::BF16).gemm_scratch = gemm_bf16_scratch;
#endif
}
