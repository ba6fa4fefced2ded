// Attention tiles (kernels/attention_tile.hpp) with xsimd batches: FBatch is the ISA's
// full vector (16 lanes on AVX-512, 8 on AVX2); a block's row stride is a multiple of 8,
// so AVX-512 finishes an odd 8 lanes with an AVX2 batch (a decode step of an 8-head GQA
// group is exactly that). Sums run in another order than the reference: results agree
// to rounding, not bit for bit.

using HBatch = xsimd::batch<float, xsimd::avx2>;  // 8 lanes

// Scores of lanes [r0, r0 + C * B::size) for keys [j, j + K): K * C accumulators, each
// load of the transposed queries shared by K keys. Few lanes (a decode step) take many
// keys per pass, so that enough independent FMA chains hide the FMA latency.
template <class B, int C, int K>
void attn_scores_keys(const float* k, std::int64_t ks, int j, int d, const float* qt, int rs, int r0, float scale,
                      float* st) {
  constexpr int L = static_cast<int>(B::size);
  B acc[K][C];
  for (int u = 0; u < K; ++u)
    for (int c = 0; c < C; ++c) acc[u][c] = B(0.0f);
  const float* kj = k + j * ks;
  for (int i = 0; i < d; ++i) {
    const float* qi = qt + static_cast<std::ptrdiff_t>(i) * rs + r0;
    B qv[C];
    for (int c = 0; c < C; ++c) qv[c] = B::load_unaligned(qi + c * L);
    for (int u = 0; u < K; ++u) {
      const B kb(kj[u * ks + i]);
      for (int c = 0; c < C; ++c) acc[u][c] = xsimd::fma(kb, qv[c], acc[u][c]);
    }
  }
  const B vs(scale);
  for (int u = 0; u < K; ++u)
    for (int c = 0; c < C; ++c) (acc[u][c] * vs).store_unaligned(st + static_cast<std::ptrdiff_t>(j + u) * rs + r0 + c * L);
}

template <class B, int C>
void attn_scores_lanes(const float* k, std::int64_t ks, int n_keys, int d, const float* qt, int rs, int r0, float scale,
                       float* st) {
  // K * C accumulators plus C query vectors stay within 16 registers (AVX2) / 32 (AVX-512).
  constexpr int K = C == 1 ? 8 : C == 2 ? 4 : (kLanes > 8 ? 4 : 2);
  int j = 0;
  for (; j + K <= n_keys; j += K) attn_scores_keys<B, C, K>(k, ks, j, d, qt, rs, r0, scale, st);
  for (; j < n_keys; ++j) attn_scores_keys<B, C, 1>(k, ks, j, d, qt, rs, r0, scale, st);
}

void attn_scores(const float* k, std::int64_t ks, int n_keys, int d, const float* qt, int rs, float scale, float* st) {
  constexpr int L = static_cast<int>(kLanes);
  int r0 = 0;
  for (; r0 + 4 * L <= rs; r0 += 4 * L) attn_scores_lanes<FBatch, 4>(k, ks, n_keys, d, qt, rs, r0, scale, st);
  switch ((rs - r0) / L) {
    case 3: attn_scores_lanes<FBatch, 3>(k, ks, n_keys, d, qt, rs, r0, scale, st); break;
    case 2: attn_scores_lanes<FBatch, 2>(k, ks, n_keys, d, qt, rs, r0, scale, st); break;
    case 1: attn_scores_lanes<FBatch, 1>(k, ks, n_keys, d, qt, rs, r0, scale, st); break;
    default: break;
  }
  r0 += (rs - r0) / L * L;
  if constexpr (L > 8)
    if (r0 < rs) attn_scores_lanes<HBatch, 1>(k, ks, n_keys, d, qt, rs, r0, scale, st);
}

template <class B>
void attn_softmax_lanes(float* st, int n_keys, int rs, int r0, float* m, float* l, float* alpha) {
  const B m_old = B::load_unaligned(m + r0);
  B mx = m_old;
  for (int j = 0; j < n_keys; ++j) mx = xsimd::max(mx, B::load_unaligned(st + static_cast<std::ptrdiff_t>(j) * rs + r0));
  // While every score is -inf the row has no weight: subtract 0, not -inf (NaN).
  const B base = xsimd::select(mx == B(-INFINITY), B(0.0f), mx);
  B sum(0.0f);
  for (int j = 0; j < n_keys; ++j) {
    float* s = st + static_cast<std::ptrdiff_t>(j) * rs + r0;
    const B p = xsimd::exp(B::load_unaligned(s) - base);
    p.store_unaligned(s);
    sum += p;
  }
  const B a = xsimd::exp(m_old - base);
  a.store_unaligned(alpha + r0);
  xsimd::fma(a, B::load_unaligned(l + r0), sum).store_unaligned(l + r0);
  mx.store_unaligned(m + r0);
}

void attn_softmax(float* st, int n_keys, int rs, float* m, float* l, float* alpha) {
  int r0 = 0;
  for (; r0 + kLanes <= rs; r0 += static_cast<int>(kLanes)) attn_softmax_lanes<FBatch>(st, n_keys, rs, r0, m, l, alpha);
  if constexpr (kLanes > 8)
    if (r0 < rs) attn_softmax_lanes<HBatch>(st, n_keys, rs, r0, m, l, alpha);
}

// Rows r0 .. r0 + R - 1, values [i0, i0 + C * B::size) of o: kept in registers over all
// keys, each load of v shared by the R rows.
template <class B, int C, int R>
void attn_accumulate_part(const float* p, int n_keys, int rs, int r0, const float* v, std::int64_t vs, int d, int i0,
                          const float* alpha, float* o) {
  constexpr int L = static_cast<int>(B::size);
  B acc[R][C];
  for (int r = 0; r < R; ++r) {
    const B a(alpha[r0 + r]);
    for (int c = 0; c < C; ++c) acc[r][c] = a * B::load_unaligned(o + static_cast<std::ptrdiff_t>(r0 + r) * d + i0 + c * L);
  }
  for (int j = 0; j < n_keys; ++j) {
    const float* vj = v + j * vs + i0;
    const float* pj = p + static_cast<std::ptrdiff_t>(j) * rs + r0;
    B vv[C];
    for (int c = 0; c < C; ++c) vv[c] = B::load_unaligned(vj + c * L);
    for (int r = 0; r < R; ++r) {
      const B w(pj[r]);
      for (int c = 0; c < C; ++c) acc[r][c] = xsimd::fma(w, vv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c].store_unaligned(o + static_cast<std::ptrdiff_t>(r0 + r) * d + i0 + c * L);
}

// Every value of rows r0 .. r0 + R - 1: 4-vector slices, then single vectors, an AVX2
// half on AVX-512, and a scalar tail when head_dim is not a multiple of 8.
template <int R>
void attn_accumulate_rows(const float* p, int n_keys, int rs, int r0, const float* v, std::int64_t vs, int d,
                          const float* alpha, float* o) {
  constexpr int L = static_cast<int>(kLanes);
  int i0 = 0;
  for (; i0 + 4 * L <= d; i0 += 4 * L) attn_accumulate_part<FBatch, 4, R>(p, n_keys, rs, r0, v, vs, d, i0, alpha, o);
  for (; i0 + L <= d; i0 += L) attn_accumulate_part<FBatch, 1, R>(p, n_keys, rs, r0, v, vs, d, i0, alpha, o);
  if constexpr (L > 8)
    for (; i0 + 8 <= d; i0 += 8) attn_accumulate_part<HBatch, 1, R>(p, n_keys, rs, r0, v, vs, d, i0, alpha, o);
  for (; i0 < d; ++i0)
    for (int r = r0; r < r0 + R; ++r) {
      float acc = alpha[r] * o[static_cast<std::ptrdiff_t>(r) * d + i0];
      for (int j = 0; j < n_keys; ++j) acc += p[static_cast<std::ptrdiff_t>(j) * rs + r] * v[j * vs + i0];
      o[static_cast<std::ptrdiff_t>(r) * d + i0] = acc;
    }
}

void attn_accumulate(const float* p, int n_keys, int rs, int rows, const float* v, std::int64_t vs, int d,
                     const float* alpha, float* o) {
  // AVX-512 has the registers for 4 rows x 4 vectors, so each load of v feeds 4 rows.
  int r = 0;
  if constexpr (kLanes > 8)
    for (; r + 4 <= rows; r += 4) attn_accumulate_rows<4>(p, n_keys, rs, r, v, vs, d, alpha, o);
  for (; r + 2 <= rows; r += 2) attn_accumulate_rows<2>(p, n_keys, rs, r, v, vs, d, alpha, o);
  if (r < rows) attn_accumulate_rows<1>(p, n_keys, rs, r, v, vs, d, alpha, o);
}

// `rows` cache rows of n values, `stride` bytes apart, into contiguous f32 rows.
void f16_rows_to_f32(const std::byte* x, std::size_t stride, int rows, std::int64_t n, float* y) {
  for (int r = 0; r < rows; ++r, x += stride, y += n) {
    const auto* h = reinterpret_cast<const std::uint16_t*>(x);
    std::int64_t i = 0;
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16)
      _mm512_storeu_ps(y + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i))));
#endif
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
    for (; i < n; ++i) y[i] = h2f(h[i]);
  }
}

void q8_0_rows_to_f32(const std::byte* x, std::size_t stride, int rows, std::int64_t n, float* y) {
  for (int r = 0; r < rows; ++r, x += stride) {
    const auto* b = reinterpret_cast<const BlockQ8_0*>(x);
    for (std::int64_t blk = 0; blk < n / kQK; ++blk, y += kQK) {
      const __m256 d = _mm256_set1_ps(h2f(b[blk].d));
      for (int c = 0; c < kQK; c += 8) {
        const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b[blk].qs + c));
        _mm256_storeu_ps(y + c, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q))));
      }
    }
  }
}

void install_attention(KernelTable& t) {
  t.attn_scores = attn_scores;
  t.attn_softmax = attn_softmax;
  t.attn_accumulate = attn_accumulate;
  t.f16_rows_to_f32 = f16_rows_to_f32;
  t.q8_0_rows_to_f32 = q8_0_rows_to_f32;
}
