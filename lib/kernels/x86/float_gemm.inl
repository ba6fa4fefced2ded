// Prefill / multi-token tiles for the float weight types (F32, F16): R weight rows x T
// tokens per pass, so each weight element is loaded (and, for F16, converted) once for T
// tokens instead of once per token. That is what makes an F16 or F32 prompt, a batch of
// sequences or a speculative check cost little more than one token.
//
// Each (row, token) sum is accumulated in exactly the lanes and order of the same
// table's vec_dot (dot_f16 / dot_f32), and reduced the same way, so a token computed in
// a batch gets bit-identical logits to the same token computed alone: speculative
// decoding stays exact. Included from float.inl (needs hsum, h2f, FBatch, kLanes).

namespace float_gemm {

// F16 (and BF16): dot_f16 keeps one 16-lane accumulator over 16-element steps (with AVX2
// two 8-lane ones, lanes 0-7 and 8-15 of it: the same arithmetic lane for lane); the
// reduction adds the halves first, as dot_f16 does.
// With AVX-512 the gemm converts both operands to f32 (exactly: every f16 is a float)
// in the caller's scratch, the weights once per block of 64 rows, the activations once
// per token tile, so the loop is loads and FMAs only: conversions (two uops on the FMA
// ports each) were half the work when both operands were converted at every step. The
// AVX2 tile, with half the registers, converts its weights in the loop.
#if defined(__AVX512F__)
// The horizontal sums of a tile's accumulators, four at a time: each add of a reduction
// tree runs as one lane-wise add over four accumulators side by side, so four sums cost
// about what one costs alone (a sum per accumulator was a fifth of the tile's time at
// k = 384). The trees are exactly those of the single-row dot products, so the results
// stay bit-identical to vec_dot: every tree first adds lane i + 8 (the 256-bit halves),
// then lane i + 4 (the 128-bit halves); Hsum (common.inl's hsum, dot_f16) ends with
// (s0 + s2) + (s1 + s3), Xsimd (xsimd's avx512 hadd, dot_f32) with (s0 + s1) + (s2 + s3).
enum class Tree { Hsum, Xsimd };

template <Tree tree>
inline __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
  // [a lanes 0-7 + 8-15, b lanes 0-7 + 8-15], the same for c and d.
  const __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm512_shuffle_f32x4(c, d, _MM_SHUFFLE(3, 2, 3, 2)));
  // 128-bit chunk n holds s0..s3 of accumulator n (a, b, c, d).
  const __m512 s = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_f32x4(ab, cd, _MM_SHUFFLE(3, 1, 3, 1)));
  __m512 r;
  if constexpr (tree == Tree::Hsum) {
    const __m512 s2 = _mm512_add_ps(s, _mm512_permute_ps(s, _MM_SHUFFLE(1, 0, 3, 2)));  // s0 + s2, s1 + s3
    r = _mm512_add_ps(s2, _mm512_permute_ps(s2, _MM_SHUFFLE(2, 3, 0, 1)));
  } else {
    const __m512 s2 = _mm512_add_ps(s, _mm512_permute_ps(s, _MM_SHUFFLE(2, 3, 0, 1)));  // s0 + s1, -, s2 + s3
    r = _mm512_add_ps(s2, _mm512_permute_ps(s2, _MM_SHUFFLE(1, 0, 3, 2)));
  }
  return _mm512_castps512_ps128(_mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12), r));
}

// out[i] = the tree sum of acc[i], i < N.
template <Tree tree, int N>
inline void reduce_all(const __m512* acc, float* out) {
  int i = 0;
  for (; i + 4 <= N; i += 4) _mm_storeu_ps(out + i, reduce4<tree>(acc[i], acc[i + 1], acc[i + 2], acc[i + 3]));
  if constexpr (N % 4 != 0) {
    const __m512 z = _mm512_setzero_ps();
    alignas(16) float rest[4];
    _mm_store_ps(rest, reduce4<tree>(acc[i], N % 4 > 1 ? acc[i + 1] : z, N % 4 > 2 ? acc[i + 2] : z, z));
    for (int j = 0; j < N % 4; ++j) out[i + j] = rest[j];
  }
}

// One row of n f16 values to f32, 16 at a time (the F16 driver's operand conversion:
// half the instructions of f16_to_f32_row's 8-wide steps, stores being what it waits on).
inline void f16_to_f32_row16(const std::uint16_t* x, float* y, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, f16x16_to_f32(x + i));
  f16_to_f32_row(x + i, y + i, n - i);
}

template <int R, int T>
void tile_f16(std::int64_t k, const float* const* w, const float* const* a, float* y, std::int64_t ldy) {
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  std::int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    __m512 av[T];
    for (int t = 0; t < T; ++t) av[t] = _mm512_loadu_ps(a[t] + i);
    for (int r = 0; r < R; ++r) {
      const __m512 wv = _mm512_loadu_ps(w[r] + i);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, av[t], acc[r][t]);
    }
  }
  // Sums as dot_f16's: hsum of the halves added, then the tail in double.
  float sums[R * T];
  reduce_all<Tree::Hsum, R * T>(&acc[0][0], sums);
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      double s = sums[r * T + t];
      for (std::int64_t j = i; j < k; ++j) s += static_cast<double>(w[r][j] * a[t][j]);
      y[t * ldy + r] = static_cast<float>(s);
    }
}
constexpr int kF16Rows = 4, kF16Tokens = 6;
constexpr bool kF16ConvertWeights = true;
#else
template <int R, int T>
void tile_f16(std::int64_t k, const std::uint16_t* const* w, const float* const* a, float* y, std::int64_t ldy) {
  __m256 acc0[R][T], acc1[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc0[r][t] = acc1[r][t] = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    for (int r = 0; r < R; ++r) {
      const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[r] + i)));
      const __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[r] + i + 8)));
      for (int t = 0; t < T; ++t) {
        acc0[r][t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(a[t] + i), acc0[r][t]);
        acc1[r][t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(a[t] + i + 8), acc1[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      double s = hsum(_mm256_add_ps(acc0[r][t], acc1[r][t]));
      for (std::int64_t j = i; j < k; ++j) s += static_cast<double>(h2f(w[r][j]) * a[t][j]);
      y[t * ldy + r] = static_cast<float>(s);
    }
}
constexpr int kF16Rows = 2, kF16Tokens = 2;
constexpr bool kF16ConvertWeights = false;
inline void f16_to_f32_row16(const std::uint16_t* x, float* y, std::int64_t n) { f16_to_f32_row(x, y, n); }
#endif

// F32: dot_f32's two xsimd accumulators over 2 * kLanes steps, one more kLanes step,
// then hadd(acc0 + acc1) and a scalar tail, per (row, token).
template <int R, int T>
void tile_f32(std::int64_t k, const float* const* w, const float* const* a, float* y, std::int64_t ldy) {
  FBatch acc0[R][T], acc1[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc0[r][t] = acc1[r][t] = FBatch(0.0f);
  std::int64_t i = 0;
  for (; i + 2 * kLanes <= k; i += 2 * kLanes) {
    for (int r = 0; r < R; ++r) {
      const FBatch w0 = FBatch::load_unaligned(w[r] + i), w1 = FBatch::load_unaligned(w[r] + i + kLanes);
      for (int t = 0; t < T; ++t) {
        acc0[r][t] = xsimd::fma(w0, FBatch::load_unaligned(a[t] + i), acc0[r][t]);
        acc1[r][t] = xsimd::fma(w1, FBatch::load_unaligned(a[t] + i + kLanes), acc1[r][t]);
      }
    }
  }
  const std::int64_t main_end = i;
#if defined(__AVX512F__)
  // dot_f32's single-vector step, then all the hadds at once (reduce_all).
  const std::int64_t tail = k - main_end >= kLanes ? main_end + kLanes : main_end;
  __m512 sum[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      FBatch a0 = acc0[r][t];
      if (tail != main_end) a0 = xsimd::fma(FBatch::load_unaligned(w[r] + main_end), FBatch::load_unaligned(a[t] + main_end), a0);
      sum[r][t] = a0 + acc1[r][t];
    }
  float sums[R * T];
  reduce_all<Tree::Xsimd, R * T>(&sum[0][0], sums);
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      float s = sums[r * T + t];
      for (std::int64_t j = tail; j < k; ++j) s += w[r][j] * a[t][j];
      y[t * ldy + r] = s;
    }
#else
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      FBatch a0 = acc0[r][t];
      std::int64_t j = main_end;
      for (; j + kLanes <= k; j += kLanes) a0 = xsimd::fma(FBatch::load_unaligned(w[r] + j), FBatch::load_unaligned(a[t] + j), a0);
      float s = xsimd::hadd(a0 + acc1[r][t]);
      for (; j < k; ++j) s += w[r][j] * a[t][j];
      y[t * ldy + r] = s;
    }
#endif
}
#if defined(__AVX512F__)
constexpr int kF32Rows = 2, kF32Tokens = 4;
#else
constexpr int kF32Rows = 2, kF32Tokens = 2;
#endif

// Dispatch over the tails: a full R x T tile, or a smaller one at the edges. Elem is the
// weights' element; the tiles read f32 activations when Convert (F16 or BF16, converted
// by ToF32 into the caller's scratch per token tile), else activations of the weights'
// element.
using RowToF32 = void (*)(const std::uint16_t*, float*, std::int64_t);
template <typename Elem, template <int, int> class Tile, int R, int T, bool Convert = false, bool ConvertW = false,
          RowToF32 ToF32 = f16_to_f32_row16>
struct Driver {
  using AElem = std::conditional_t<Convert, float, Elem>;
  using WElem = std::conditional_t<ConvertW, float, Elem>;
  // Weight rows converted at a time (ConvertW): matmul's row block.
  static constexpr int kChunk = ConvertW ? 64 : 1 << 30;
  // Floats of one converted row: k rounded up to whole cache lines.
  static std::int64_t converted_row(std::int64_t k) { return (k + 15) / 16 * 16; }
  static std::size_t scratch(std::int64_t k) {
    return sizeof(float) * static_cast<std::size_t>((T + (ConvertW ? kChunk : 0)) * converted_row(k));
  }
  template <int r, int t>
  static void run(std::int64_t k, const WElem* const* w, const AElem* const* a, float* y, std::int64_t ldy) {
    Tile<r, t>::call(k, w, a, y, ldy);
  }
  template <int r>
  static void by_tokens(int tokens, std::int64_t k, const WElem* const* w, const AElem* const* a, float* y, std::int64_t ldy) {
    if constexpr (T >= 6) if (tokens == 5) return run<r, 5>(k, w, a, y, ldy);
    if constexpr (T >= 5) if (tokens == 4) return run<r, 4>(k, w, a, y, ldy);
    if constexpr (T >= 4) if (tokens == 3) return run<r, 3>(k, w, a, y, ldy);
    if constexpr (T >= 3) if (tokens == 2) return run<r, 2>(k, w, a, y, ldy);
    if (tokens == 1) return run<r, 1>(k, w, a, y, ldy);
    return run<r, T>(k, w, a, y, ldy);
  }
  static void tile(int rows, int tokens, std::int64_t k, const WElem* const* w, const AElem* const* a, float* y, std::int64_t ldy) {
    if constexpr (R >= 4) if (rows == 3) return by_tokens<3>(tokens, k, w, a, y, ldy);
    if constexpr (R >= 3) if (rows == 2) return by_tokens<2>(tokens, k, w, a, y, ldy);
    if (rows == 1) return by_tokens<1>(tokens, k, w, a, y, ldy);
    return by_tokens<R>(tokens, k, w, a, y, ldy);
  }
  // GemmFn: token tiles outside, row tiles inside, so a tile's activations stay in
  // registers / L1 while the rows of the (small, cache-resident) weight block stream by.
  static void gemm(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a, std::size_t a_row,
                   int tokens, float* y, std::int64_t ldy, std::byte* scratch) {
    const std::int64_t ks = converted_row(k);
    for (int c0 = 0; c0 < rows; c0 += kChunk) {
      const int rows_c = std::min(kChunk, rows - c0);
      float* wf = nullptr;  // converted weight rows; scratch is null when nothing is converted
      if constexpr (ConvertW) {
        wf = reinterpret_cast<float*>(scratch) + T * ks;
        for (int r = 0; r < rows_c; ++r)
          ToF32(reinterpret_cast<const std::uint16_t*>(w + w_row * static_cast<std::size_t>(c0 + r)), wf + r * ks, k);
      }
      for (int t0 = 0; t0 < tokens; t0 += T) {
        const int nt = std::min(T, tokens - t0);
        const AElem* ap[T];
        for (int t = 0; t < nt; ++t) {
          const std::byte* row = a + a_row * static_cast<std::size_t>(t0 + t);
          if constexpr (Convert) {
            float* f = reinterpret_cast<float*>(scratch) + t * ks;
            ToF32(reinterpret_cast<const std::uint16_t*>(row), f, k);
            ap[t] = f;
          } else {
            ap[t] = reinterpret_cast<const Elem*>(row);
          }
        }
        for (int r0 = 0; r0 < rows_c; r0 += R) {
          const int nr = std::min(R, rows_c - r0);
          const WElem* wp[R];
          for (int r = 0; r < nr; ++r) {
            if constexpr (ConvertW) wp[r] = wf + (r0 + r) * ks;
            else wp[r] = reinterpret_cast<const Elem*>(w + w_row * static_cast<std::size_t>(c0 + r0 + r));
          }
          tile(nr, nt, k, wp, ap, y + static_cast<std::int64_t>(t0) * ldy + c0 + r0, ldy);
        }
      }
    }
  }
};

template <int R, int T>
struct F16Tile {
  template <typename W>
  static void call(std::int64_t k, const W* const* w, const float* const* a, float* y, std::int64_t ldy) {
    tile_f16<R, T>(k, w, a, y, ldy);
  }
};
template <int R, int T>
struct F32Tile {
  static void call(std::int64_t k, const float* const* w, const float* const* a, float* y, std::int64_t ldy) {
    tile_f32<R, T>(k, w, a, y, ldy);
  }
};

}  // namespace float_gemm

using GemmF16 = float_gemm::Driver<std::uint16_t, float_gemm::F16Tile, float_gemm::kF16Rows, float_gemm::kF16Tokens, true,
                                   float_gemm::kF16ConvertWeights>;
#if defined(__AVX512F__)
// BF16 weights and activations, converted to f32 like F16's and run through the same
// f32 tile (dot_bf16 keeps its arithmetic).
using GemmBF16 = float_gemm::Driver<std::uint16_t, float_gemm::F16Tile, float_gemm::kF16Rows, float_gemm::kF16Tokens, true,
                                    true, bf16_to_f32_row>;
#endif
using GemmF32 = float_gemm::Driver<float, float_gemm::F32Tile, float_gemm::kF32Rows, float_gemm::kF32Tokens>;
