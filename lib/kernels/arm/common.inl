// What the ARM64 kernels share: scalar fp16, the int8 dot-product primitives of each
// level (SDOT, or SMULL + SADALP; SMMLA pairs with i8mm) and the tile walker. Part of
// backend.inl's per-level namespace.

inline float h2f(std::uint16_t h) {
  __fp16 v;
  std::memcpy(&v, &h, sizeof v);
  return static_cast<float>(v);
}

// acc + the products of 16 int8 pairs, lane i holding those of bytes 4i..4i+3 as SDOT
// does: plain NEON pairs them (SADDLP) and the pairs' pairs (ADDP), so lane sums, and
// the float sums kept per lane, are the same at every level.
inline int32x4_t dot_s8(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(acc, a, b);
#else
  const int32x4_t lo = vpaddlq_s16(vmull_s8(vget_low_s8(a), vget_low_s8(b)));
  const int32x4_t hi = vpaddlq_s16(vmull_high_s8(a, b));
  return vaddq_s32(acc, vpaddq_s32(lo, hi));
#endif
}

// [w0.a0, w0.a1, w1.a0, w1.a1] over 16 int8 elements of two rows and two tokens, added to
// acc: what SMMLA computes (mmla16 below); without i8mm, from four dot_s8 and ADDPs.
// Exact integers either way, so the 2-row tiles' float steps are the same at every level.
inline int32x4_t dot2x2(int32x4_t acc, int8x16_t w0, int8x16_t w1, int8x16_t a0, int8x16_t a1);

#if defined(__ARM_FEATURE_MATMUL_INT8)
// SMMLA operands: bytes 0-7 of a and of b side by side (chunk 0) or bytes 8-15 (chunk 1).
inline int8x16_t pair_lo(int8x16_t a, int8x16_t b) {
  return vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}
inline int8x16_t pair_hi(int8x16_t a, int8x16_t b) {
  return vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}
// acc + [w0.a0, w0.a1, w1.a0, w1.a1] over 16 int8 elements of two rows and two tokens.
inline int32x4_t mmla16(int32x4_t acc, int8x16_t w0, int8x16_t w1, int8x16_t a0, int8x16_t a1) {
  acc = vmmlaq_s32(acc, pair_lo(w0, w1), pair_lo(a0, a1));
  return vmmlaq_s32(acc, pair_hi(w0, w1), pair_hi(a0, a1));
}
#endif

inline int32x4_t dot2x2(int32x4_t acc, int8x16_t w0, int8x16_t w1, int8x16_t a0, int8x16_t a1) {
#if defined(__ARM_FEATURE_MATMUL_INT8)
  return mmla16(acc, w0, w1, a0, a1);
#else
  const int32x4_t z = vdupq_n_s32(0);
  const int32x4_t r0 = vpaddq_s32(dot_s8(z, w0, a0), dot_s8(z, w0, a1));
  const int32x4_t r1 = vpaddq_s32(dot_s8(z, w1, a0), dot_s8(z, w1, a1));
  return vaddq_s32(acc, vpaddq_s32(r0, r1));
#endif
}


// Walks a rows x tokens product in R x T tiles, calling Tile<1, 1> for the tails (Tile<R, T>::run does one full tile).
template <int R, int T, template <int, int> class Tile>
void tiled(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a, std::size_t a_row,
           int tokens, float* y, std::int64_t ldy) {
  for (int r = 0; r < rows; r += R) {
    const int nr = std::min(R, rows - r);
    const std::byte* wr = w + w_row * static_cast<std::size_t>(r);
    for (int t = 0; t < tokens; t += T) {
      const int nt = std::min(T, tokens - t);
      const std::byte* at = a + a_row * static_cast<std::size_t>(t);
      float* yt = y + t * ldy + r;
      if (nr == R && nt == T) Tile<R, T>::run(k, wr, w_row, at, a_row, yt, ldy);
      else
        for (int i = 0; i < nr; ++i)
          for (int j = 0; j < nt; ++j)
            Tile<1, 1>::run(k, wr + w_row * static_cast<std::size_t>(i), w_row, at + a_row * static_cast<std::size_t>(j),
                            a_row, yt + j * ldy + i, ldy);
    }
  }
}

