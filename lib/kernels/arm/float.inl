// ARM64 kernels for float weights (F32; F16 and BF16 against f16 / bf16 activations)
// and the f32 / f16 helpers of attention and norms. Part of backend.inl's namespace.

float dot_f32(const float* a, const float* b, std::int64_t n) {
  float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = vfmaq_f32(acc0, vld1q_f32(a + i), vld1q_f32(b + i));
    acc1 = vfmaq_f32(acc1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
  }
  if (i + 4 <= n) {
    acc0 = vfmaq_f32(acc0, vld1q_f32(a + i), vld1q_f32(b + i));
    i += 4;
  }
  float s = vaddvq_f32(vaddq_f32(acc0, acc1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy_f32(float alpha, const float* x, float* y, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), alpha));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

void axpy_f16(float alpha, const std::uint16_t* x, float* y, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t xv = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(x + i)));
    vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), xv, alpha));
  }
  for (; i < n; ++i) y[i] += alpha * h2f(x[i]);
}

// Scores of one query against n cached keys, four keys per pass sharing each load of q.
void dot_rows_f32(const float* q, const float* k, std::int64_t stride, int n, std::int64_t len, float* out) {
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* kr[4] = {k + j * stride, k + (j + 1) * stride, k + (j + 2) * stride, k + (j + 3) * stride};
    float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    std::int64_t i = 0;
    for (; i + 4 <= len; i += 4) {
      const float32x4_t qv = vld1q_f32(q + i);
      for (int r = 0; r < 4; ++r) acc[r] = vfmaq_f32(acc[r], qv, vld1q_f32(kr[r] + i));
    }
    for (int r = 0; r < 4; ++r) {
      float s = vaddvq_f32(acc[r]);
      for (std::int64_t e = i; e < len; ++e) s += q[e] * kr[r][e];
      out[j + r] = s;
    }
  }
  for (; j < n; ++j) out[j] = dot_f32(q, k + j * stride, len);
}

// out = sum_j w[j] v_j, a 16-float slice of out kept in registers over all n rows.
void weighted_sum_f32(const float* w, const float* v, std::int64_t stride, int n, std::int64_t len, float* out) {
  std::int64_t i = 0;
  for (; i + 16 <= len; i += 16) {
    float32x4_t o[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    for (int j = 0; j < n; ++j) {
      const float* vj = v + j * stride + i;
      for (int c = 0; c < 4; ++c) o[c] = vfmaq_n_f32(o[c], vld1q_f32(vj + 4 * c), w[j]);
    }
    for (int c = 0; c < 4; ++c) vst1q_f32(out + i + 4 * c, o[c]);
  }
  for (; i + 4 <= len; i += 4) {
    float32x4_t o = vdupq_n_f32(0.0f);
    for (int j = 0; j < n; ++j) o = vfmaq_n_f32(o, vld1q_f32(v + j * stride + i), w[j]);
    vst1q_f32(out + i, o);
  }
  for (; i < len; ++i) {
    float o = 0.0f;
    for (int j = 0; j < n; ++j) o += w[j] * v[j * stride + i];
    out[i] = o;
  }
}

// ---- float weights: F32, F16 (f16 activations), BF16 (bf16 activations) ---------------

// Eight elements of a row as two f32 vectors.
struct LoadF32 {
  using T = float;
  static void load8(const float* p, float32x4_t& lo, float32x4_t& hi) { lo = vld1q_f32(p), hi = vld1q_f32(p + 4); }
  static float one(const float* p) { return *p; }
};
struct LoadF16 {
  using T = std::uint16_t;
  static void load8(const std::uint16_t* p, float32x4_t& lo, float32x4_t& hi) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(p));
    lo = vcvt_f32_f16(vget_low_f16(h));
    hi = vcvt_high_f32_f16(h);
  }
  static float one(const std::uint16_t* p) { return h2f(*p); }
};
struct LoadBF16 {
  using T = std::uint16_t;
  static void load8(const std::uint16_t* p, float32x4_t& lo, float32x4_t& hi) {
    const uint16x8_t h = vld1q_u16(p);
    lo = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16));
    hi = vreinterpretq_f32_u32(vshll_high_n_u16(h, 16));
  }
  static float one(const std::uint16_t* p) { return bf16_to_f32(*p); }
};

// R weight rows x T tokens; every (row, token) dot follows the same order of operations
// for any R and T, so the tile equals vec_dot (= the 1 x 1 tile) bit for bit.
template <class L, int R, int T>
void float_tile(std::int64_t k, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                float* y, std::int64_t ldy) {
  using E = typename L::T;
  const E* wr[R];
  const E* ar[T];
  for (int r = 0; r < R; ++r) wr[r] = reinterpret_cast<const E*>(w + w_row * static_cast<std::size_t>(r));
  for (int t = 0; t < T; ++t) ar[t] = reinterpret_cast<const E*>(a + a_row * static_cast<std::size_t>(t));
  float32x4_t acc[R][T][2];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t][0] = acc[r][t][1] = vdupq_n_f32(0.0f);
  std::int64_t i = 0;
  for (; i + 8 <= k; i += 8) {
    float32x4_t wl[R], wh[R];
    for (int r = 0; r < R; ++r) L::load8(wr[r] + i, wl[r], wh[r]);
    for (int t = 0; t < T; ++t) {
      float32x4_t al, ah;
      L::load8(ar[t] + i, al, ah);
      for (int r = 0; r < R; ++r) {
        acc[r][t][0] = vfmaq_f32(acc[r][t][0], wl[r], al);
        acc[r][t][1] = vfmaq_f32(acc[r][t][1], wh[r], ah);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      float s = vaddvq_f32(vaddq_f32(acc[r][t][0], acc[r][t][1]));
      for (std::int64_t e = i; e < k; ++e) s += L::one(wr[r] + e) * L::one(ar[t] + e);
      y[t * ldy + r] = s;
    }
}

template <class L>
float float_dot(std::int64_t k, const void* w, const void* a) {
  float y = 0.0f;
  float_tile<L, 1, 1>(k, static_cast<const std::byte*>(w), 0, static_cast<const std::byte*>(a), 0, &y, 1);
  return y;
}

template <class L>
struct FloatTile {
  template <int R, int T>
  struct Of {
    static void run(std::int64_t k, const std::byte* w, std::size_t w_row, const std::byte* a, std::size_t a_row,
                    float* y, std::int64_t ldy) {
      float_tile<L, R, T>(k, w, w_row, a, a_row, y, ldy);
    }
  };
};

template <class L>
void float_gemm(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a,
                std::size_t a_row, int tokens, float* y, std::int64_t ldy, std::byte* /*scratch*/) {
  tiled<2, 4, FloatTile<L>::template Of>(k, w, w_row, rows, a, a_row, tokens, y, ldy);
}

void install_float(KernelTable& t) {
  // Activation types and converters stay the reference's (f32 as is, f16, bf16).
  t.at(DType::F32).vec_dot = float_dot<LoadF32>;
  t.at(DType::F32).gemm = float_gemm<LoadF32>;
  t.at(DType::F16).vec_dot = float_dot<LoadF16>;
  t.at(DType::F16).gemm = float_gemm<LoadF16>;
  t.at(DType::BF16).vec_dot = float_dot<LoadBF16>;
  t.at(DType::BF16).gemm = float_gemm<LoadBF16>;
  t.dot_f32 = dot_f32;
  t.axpy_f32 = axpy_f32;
  t.axpy_f16 = axpy_f16;
  t.dot_rows_f32 = dot_rows_f32;
  t.weighted_sum_f32 = weighted_sum_f32;
}
