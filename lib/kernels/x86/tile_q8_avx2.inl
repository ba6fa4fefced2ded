// AVX2 prefill tile for Q4_0 / Q8_0 weights (installed by q4_0.inl, q8_0.inl).

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
constexpr int kQ8TileTokens = 4;

struct alignas(32) ScaleLanes { float v[8]; };

// The scale table of gemm_q8: 8 floats per block.
std::size_t gemm_q8_scratch(std::int64_t k) { return sizeof(ScaleLanes) * static_cast<std::size_t>(k / kQK); }

template <bool Q4>
void gemm_q8(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a, std::size_t a_row,
             int tokens, float* y, std::int64_t ldy, std::byte* scratch) {
  constexpr int T = kQ8TileTokens;
  const std::int64_t nb = k / kQK;
  auto* table = reinterpret_cast<ScaleLanes*>(scratch);
  for (int t = 0; t < tokens; t += T) {
    const int nt = std::min(T, tokens - t);
    const std::byte* at = a + a_row * static_cast<std::size_t>(t);
    for (int j = 0; j < nt; ++j) {
      const auto* ab = reinterpret_cast<const BlockQ8_0*>(at + a_row * static_cast<std::size_t>(j));
      for (std::int64_t b = 0; b < nb; ++b) table[b].v[j] = h2f(ab[b].d);
    }
    const float* da = table->v;
    float* yt = y + static_cast<std::int64_t>(t) * ldy;
    for (int r = 0; r < rows; ++r) {
      const std::byte* wr = w + w_row * static_cast<std::size_t>(r);
      if (nt == T) TileQ8<Q4>::template tile<T>(nb, wr, at, a_row, da, yt + r, ldy);
      else q8_token_tail<Q4, T - 1>(nt, nb, wr, at, a_row, da, yt + r, ldy);
    }
  }
}

