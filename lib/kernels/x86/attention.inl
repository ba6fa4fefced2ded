// Attention tiles (kernels/attention_tile.hpp) with xsimd batches: FBatch is the ISA's
// full vector (16 lanes on AVX-512, 8 on AVX2); a block's row stride is a multiple of 8,
// so AVX-512 finishes an odd 8 lanes with an AVX2 batch (a decode step of an 8-head GQA
// group is exactly that). Sums run in another order than the reference: results agree
// to rounding, not bit for bit.

using HBatch = xsimd::batch<float, xsimd::avx2>;  // 8 lanes

// Scores of lanes [r0, r0 + C * B::size) for every key, two keys per pass sharing each
// load of the transposed queries.
template <class B, int C>
void attn_scores_lanes(const float* k, int n_keys, int d, const float* qt, int rs, int r0, float scale, float* st) {
  constexpr int L = static_cast<int>(B::size);
  const B vs(scale);
  int j = 0;
  for (; j + 2 <= n_keys; j += 2) {
    const float* k0 = k + static_cast<std::ptrdiff_t>(j) * d;
    const float* k1 = k0 + d;
    B a0[C], a1[C];
    for (int c = 0; c < C; ++c) a0[c] = a1[c] = B(0.0f);
    for (int i = 0; i < d; ++i) {
      const B b0(k0[i]), b1(k1[i]);
      const float* qi = qt + static_cast<std::ptrdiff_t>(i) * rs + r0;
      for (int c = 0; c < C; ++c) {
        const B qv = B::load_unaligned(qi + c * L);
        a0[c] = xsimd::fma(b0, qv, a0[c]);
        a1[c] = xsimd::fma(b1, qv, a1[c]);
      }
    }
    float* s0 = st + static_cast<std::ptrdiff_t>(j) * rs + r0;
    for (int c = 0; c < C; ++c) {
      (a0[c] * vs).store_unaligned(s0 + c * L);
      (a1[c] * vs).store_unaligned(s0 + rs + c * L);
    }
  }
  if (j < n_keys) {
    const float* k0 = k + static_cast<std::ptrdiff_t>(j) * d;
    B a0[C];
    for (int c = 0; c < C; ++c) a0[c] = B(0.0f);
    for (int i = 0; i < d; ++i) {
      const B b0(k0[i]);
      for (int c = 0; c < C; ++c) a0[c] = xsimd::fma(b0, B::load_unaligned(qt + static_cast<std::ptrdiff_t>(i) * rs + r0 + c * L), a0[c]);
    }
    for (int c = 0; c < C; ++c) (a0[c] * vs).store_unaligned(st + static_cast<std::ptrdiff_t>(j) * rs + r0 + c * L);
  }
}

void attn_scores(const float* k, int n_keys, int d, const float* qt, int rs, float scale, float* st) {
  constexpr int L = static_cast<int>(kLanes);
  int r0 = 0;
  for (; r0 + 4 * L <= rs; r0 += 4 * L) attn_scores_lanes<FBatch, 4>(k, n_keys, d, qt, rs, r0, scale, st);
  switch ((rs - r0) / L) {
    case 3: attn_scores_lanes<FBatch, 3>(k, n_keys, d, qt, rs, r0, scale, st); break;
    case 2: attn_scores_lanes<FBatch, 2>(k, n_keys, d, qt, rs, r0, scale, st); break;
    case 1: attn_scores_lanes<FBatch, 1>(k, n_keys, d, qt, rs, r0, scale, st); break;
    default: break;
  }
  r0 += (rs - r0) / L * L;
  if constexpr (L > 8)
    if (r0 < rs) attn_scores_lanes<HBatch, 1>(k, n_keys, d, qt, rs, r0, scale, st);
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
void attn_accumulate_part(const float* p, int n_keys, int rs, int r0, const float* v, int d, int i0,
                          const float* alpha, float* o) {
  constexpr int L = static_cast<int>(B::size);
  B acc[R][C];
  for (int r = 0; r < R; ++r) {
    const B a(alpha[r0 + r]);
    for (int c = 0; c < C; ++c) acc[r][c] = a * B::load_unaligned(o + static_cast<std::ptrdiff_t>(r0 + r) * d + i0 + c * L);
  }
  for (int j = 0; j < n_keys; ++j) {
    const float* vj = v + static_cast<std::ptrdiff_t>(j) * d + i0;
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
void attn_accumulate_rows(const float* p, int n_keys, int rs, int r0, const float* v, int d, const float* alpha,
                          float* o) {
  constexpr int L = static_cast<int>(kLanes);
  int i0 = 0;
  for (; i0 + 4 * L <= d; i0 += 4 * L) attn_accumulate_part<FBatch, 4, R>(p, n_keys, rs, r0, v, d, i0, alpha, o);
  for (; i0 + L <= d; i0 += L) attn_accumulate_part<FBatch, 1, R>(p, n_keys, rs, r0, v, d, i0, alpha, o);
  if constexpr (L > 8)
    for (; i0 + 8 <= d; i0 += 8) attn_accumulate_part<HBatch, 1, R>(p, n_keys, rs, r0, v, d, i0, alpha, o);
  for (; i0 < d; ++i0)
    for (int r = r0; r < r0 + R; ++r) {
      float acc = alpha[r] * o[static_cast<std::ptrdiff_t>(r) * d + i0];
      for (int j = 0; j < n_keys; ++j) acc += p[static_cast<std::ptrdiff_t>(j) * rs + r] * v[static_cast<std::ptrdiff_t>(j) * d + i0];
      o[static_cast<std::ptrdiff_t>(r) * d + i0] = acc;
    }
}

void attn_accumulate(const float* p, int n_keys, int rs, int rows, const float* v, int d, const float* alpha,
                     float* o) {
  int r = 0;
  for (; r + 2 <= rows; r += 2) attn_accumulate_rows<2>(p, n_keys, rs, r, v, d, alpha, o);
  if (r < rows) attn_accumulate_rows<1>(p, n_keys, rs, r, v, d, alpha, o);
}

void f16_to_f32_rows(const std::uint16_t* x, float* y, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  for (; i < n; ++i) y[i] = h2f(x[i]);
}

void q8_0_to_f32_rows(const std::byte* x, float* y, std::int64_t n) {
  const auto* b = reinterpret_cast<const BlockQ8_0*>(x);
  for (std::int64_t blk = 0; blk < n / kQK; ++blk, y += kQK) {
    const __m256 d = _mm256_set1_ps(h2f(b[blk].d));
    for (int c = 0; c < kQK; c += 8) {
      const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b[blk].qs + c));
      _mm256_storeu_ps(y + c, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q))));
    }
  }
}

void install_attention(KernelTable& t) {
  t.attn_scores = attn_scores;
  t.attn_softmax = attn_softmax;
  t.attn_accumulate = attn_accumulate;
  t.f16_to_f32 = f16_to_f32_rows;
  t.q8_0_to_f32 = q8_0_to_f32_rows;
}
