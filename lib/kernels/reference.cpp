// Scalar reference kernels: plain loops over the block layouts of blocks.hpp. They
// define the numerics; every vectorised kernel is tested against them.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/blocks.hpp"
#include "kernels/fp16.hpp"
#include "kernels/kernel_table.hpp"

namespace inkling::kernels {
namespace {

float h2f(std::uint16_t h) { return fp16_to_f32(h); }

std::uint32_t load_u32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// ---- dequantization ------------------------------------------------------------

void deq_q4_0(const void* src, float* y, std::int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (std::int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = h2f(b[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>((b[i].qs[j] & 0xF) - 8) * d;
      y[j + 16] = static_cast<float>((b[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void deq_q4_1(const void* src, float* y, std::int64_t n) {
  const auto* b = static_cast<const BlockQ4_1*>(src);
  for (std::int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = h2f(b[i].d), m = h2f(b[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(b[i].qs[j] & 0xF) * d + m;
      y[j + 16] = static_cast<float>(b[i].qs[j] >> 4) * d + m;
    }
  }
}

// The 5-bit quants of a Q5 block: low nibbles plus bit j of qh as bit 4.
void q5_values(const std::uint8_t* qs, const std::uint8_t* qh_bytes, int* q) {
  const std::uint32_t qh = load_u32(qh_bytes);
  for (int j = 0; j < 16; ++j) {
    q[j] = (qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
    q[j + 16] = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
  }
}

void deq_q5_0(const void* src, float* y, std::int64_t n) {
  const auto* b = static_cast<const BlockQ5_0*>(src);
  int q[kQK];
  for (std::int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = h2f(b[i].d);
    q5_values(b[i].qs, b[i].qh, q);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(q[j] - 16) * d;
  }
}

void deq_q5_1(const void* src, float* y, std::int64_t n) {
  const auto* b = static_cast<const BlockQ5_1*>(src);
  int q[kQK];
  for (std::int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = h2f(b[i].d), m = h2f(b[i].m);
    q5_values(b[i].qs, b[i].qh, q);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(q[j]) * d + m;
  }
}

void deq_q8_0(const void* src, float* y, std::int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (std::int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = h2f(b[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(b[i].qs[j]) * d;
  }
}

// K-quants are unpacked to integer quants plus, per sub-block of `sub` elements, an
// integer scale and min: x = d * scale * q - dmin * min. Dequantization and the
// reference dot product share these unpackers, so they cannot disagree.
struct KUnpacked {
  int q[kQKK];
  int scale[16];
  int min[16];
  float d, dmin;
  int sub;  // elements per sub-block
};

void unpack_q2_k(const BlockQ2_K& b, KUnpacked& u) {
  u.d = h2f(b.d);
  u.dmin = h2f(b.dmin);
  u.sub = 16;
  for (int s = 0; s < 16; ++s) {
    u.scale[s] = b.scales[s] & 0xF;
    u.min[s] = b.scales[s] >> 4;
  }
  for (int e = 0; e < kQKK; ++e) {
    const int h = e / 128, r = e % 128, j = r / 32, l = r % 32;
    u.q[e] = (b.qs[32 * h + l] >> (2 * j)) & 3;
  }
}

void unpack_q3_k(const BlockQ3_K& b, KUnpacked& u) {
  u.d = h2f(b.d);
  u.dmin = 0;
  u.sub = 16;
  q3_k_scales(b.scales, u.scale);
  for (int k = 0; k < 16; ++k) u.min[k] = 0;
  for (int e = 0; e < kQKK; ++e) {
    const int h = e / 128, r = e % 128, j = r / 32, l = r % 32;
    const int q2 = (b.qs[32 * h + l] >> (2 * j)) & 3;
    const bool high = (b.hmask[l] >> (4 * h + j)) & 1;
    u.q[e] = high ? q2 : q2 - 4;
  }
}

// Q4_K and Q5_K share their header: d, dmin and 8 sub-blocks of 32 with 6-bit scales/mins.
template <typename Block>
void unpack_k_header(const Block& b, KUnpacked& u) {
  u.d = h2f(b.d);
  u.dmin = h2f(b.dmin);
  u.sub = 32;
  for (int j = 0; j < 8; ++j) {
    std::uint8_t sc, m;
    k_scale_min(j, b.scales, sc, m);
    u.scale[j] = sc;
    u.min[j] = m;
  }
}

void unpack_q4_k(const BlockQ4_K& b, KUnpacked& u) {
  unpack_k_header(b, u);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      u.q[64 * c + l] = b.qs[32 * c + l] & 0xF;
      u.q[64 * c + 32 + l] = b.qs[32 * c + l] >> 4;
    }
}

void unpack_q5_k(const BlockQ5_K& b, KUnpacked& u) {
  unpack_k_header(b, u);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      u.q[64 * c + l] = (b.qs[32 * c + l] & 0xF) | (((b.qh[l] >> (2 * c)) & 1) << 4);
      u.q[64 * c + 32 + l] = (b.qs[32 * c + l] >> 4) | (((b.qh[l] >> (2 * c + 1)) & 1) << 4);
    }
}

void unpack_q6_k(const BlockQ6_K& b, KUnpacked& u) {
  u.d = h2f(b.d);
  u.dmin = 0;
  u.sub = 16;
  for (int s = 0; s < 16; ++s) {
    u.scale[s] = b.scales[s];
    u.min[s] = 0;
  }
  for (int h = 0; h < 2; ++h) {
    const std::uint8_t* ql = b.ql + 64 * h;
    const std::uint8_t* qh = b.qh + 32 * h;
    int* q = u.q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      q[l] = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      q[l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      q[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      q[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
    }
  }
}

template <typename Block, void (*Unpack)(const Block&, KUnpacked&)>
void deq_k(const void* src, float* y, std::int64_t n) {
  const auto* b = static_cast<const Block*>(src);
  KUnpacked u;
  for (std::int64_t i = 0; i < n / kQKK; ++i, y += kQKK) {
    Unpack(b[i], u);
    for (int e = 0; e < kQKK; ++e) {
      const int s = e / u.sub;
      y[e] = u.d * static_cast<float>(u.scale[s]) * static_cast<float>(u.q[e]) -
             u.dmin * static_cast<float>(u.min[s]);
    }
  }
}

void deq_f32(const void* src, float* y, std::int64_t n) { std::memcpy(y, src, sizeof(float) * n); }
void deq_f16(const void* src, float* y, std::int64_t n) {
  const auto* h = static_cast<const std::uint16_t*>(src);
  for (std::int64_t i = 0; i < n; ++i) y[i] = fp16_to_f32(h[i]);
}
void deq_bf16(const void* src, float* y, std::int64_t n) {
  const auto* h = static_cast<const std::uint16_t*>(src);
  for (std::int64_t i = 0; i < n; ++i) y[i] = bf16_to_f32(h[i]);
}

// ---- dot products ------------------------------------------------------------------

float dot_f32_w(std::int64_t k, const void* w, const void* a) {
  return ref::dot_f32(static_cast<const float*>(w), static_cast<const float*>(a), k);
}

float dot_f16(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const std::uint16_t*>(w);
  const auto* y = static_cast<const std::uint16_t*>(a);
  double s = 0;
  for (std::int64_t i = 0; i < k; ++i) s += static_cast<double>(fp16_to_f32(x[i]) * fp16_to_f32(y[i]));
  return static_cast<float>(s);
}

float dot_bf16(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const std::uint16_t*>(w);
  const auto* y = static_cast<const std::uint16_t*>(a);
  double s = 0;
  for (std::int64_t i = 0; i < k; ++i) s += static_cast<double>(bf16_to_f32(x[i]) * bf16_to_f32(y[i]));
  return static_cast<float>(s);
}

float dot_q4_0(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    int sumi = 0;
    for (int j = 0; j < 16; ++j)
      sumi += ((x[i].qs[j] & 0xF) - 8) * y[i].qs[j] + ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + 16];
    sum += static_cast<float>(sumi) * (h2f(x[i].d) * h2f(y[i].d));
  }
  return sum;
}

float dot_q4_1(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0;
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    int sumi = 0;
    for (int j = 0; j < 16; ++j)
      sumi += (x[i].qs[j] & 0xF) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + 16];
    sum += h2f(x[i].d) * h2f(y[i].d) * static_cast<float>(sumi) + h2f(x[i].m) * h2f(y[i].s);
  }
  return sum;
}

float dot_q5_0(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  int q[kQK];
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    q5_values(x[i].qs, x[i].qh, q);
    int sumi = 0;
    for (int j = 0; j < kQK; ++j) sumi += (q[j] - 16) * y[i].qs[j];
    sum += static_cast<float>(sumi) * (h2f(x[i].d) * h2f(y[i].d));
  }
  return sum;
}

float dot_q5_1(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0;
  int q[kQK];
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    q5_values(x[i].qs, x[i].qh, q);
    int sumi = 0;
    for (int j = 0; j < kQK; ++j) sumi += q[j] * y[i].qs[j];
    sum += h2f(x[i].d) * h2f(y[i].d) * static_cast<float>(sumi) + h2f(x[i].m) * h2f(y[i].s);
  }
  return sum;
}

float dot_q8_0(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    int sumi = 0;
    for (int j = 0; j < kQK; ++j) sumi += x[i].qs[j] * y[i].qs[j];
    sum += static_cast<float>(sumi) * (h2f(x[i].d) * h2f(y[i].d));
  }
  return sum;
}

// d_a * (d_w * Σ_s scale_s * Σ q*a  -  dmin_w * Σ_s min_s * Σ a), per super-block.
template <typename Block, void (*Unpack)(const Block&, KUnpacked&)>
float dot_k(std::int64_t k, const void* w, const void* a) {
  const auto* x = static_cast<const Block*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  KUnpacked u;
  float sum = 0;
  for (std::int64_t i = 0; i < k / kQKK; ++i) {
    Unpack(x[i], u);
    int scaled = 0, mins = 0;
    for (int s = 0; s < kQKK / u.sub; ++s) {
      int qa = 0, asum = 0;
      for (int e = s * u.sub; e < (s + 1) * u.sub; ++e) {
        qa += u.q[e] * y[i].qs[e];
        asum += y[i].qs[e];
      }
      scaled += u.scale[s] * qa;
      mins += u.min[s] * asum;
    }
    sum += y[i].d * (u.d * static_cast<float>(scaled) - u.dmin * static_cast<float>(mins));
  }
  return sum;
}

KernelTable make_scalar_table() {
  KernelTable t;
  t.f32 = {DType::F32, nullptr, dot_f32_w};
  t.f16 = {DType::F16, ref::quantize_f16, dot_f16};
  t.bf16 = {DType::BF16, ref::quantize_bf16, dot_bf16};
  t.q4_0 = {DType::Q8_0, ref::quantize_q8_0, dot_q4_0};
  t.q4_1 = {DType::Q8_1, ref::quantize_q8_1, dot_q4_1};
  t.q5_0 = {DType::Q8_0, ref::quantize_q8_0, dot_q5_0};
  t.q5_1 = {DType::Q8_1, ref::quantize_q8_1, dot_q5_1};
  t.q8_0 = {DType::Q8_0, ref::quantize_q8_0, dot_q8_0};
  t.q2_k = {DType::Q8_K, ref::quantize_q8_k, dot_k<BlockQ2_K, unpack_q2_k>};
  t.q3_k = {DType::Q8_K, ref::quantize_q8_k, dot_k<BlockQ3_K, unpack_q3_k>};
  t.q4_k = {DType::Q8_K, ref::quantize_q8_k, dot_k<BlockQ4_K, unpack_q4_k>};
  t.q5_k = {DType::Q8_K, ref::quantize_q8_k, dot_k<BlockQ5_K, unpack_q5_k>};
  t.q6_k = {DType::Q8_K, ref::quantize_q8_k, dot_k<BlockQ6_K, unpack_q6_k>};
  t.dot_f32 = ref::dot_f32;
  t.axpy_f32 = ref::axpy_f32;
  t.dot_rows_f32 = ref::dot_rows_f32;
  t.weighted_sum_f32 = ref::weighted_sum_f32;
  t.axpy_f16 = ref::axpy_f16;
  return t;
}

}  // namespace

// ---- activation conversion (shared by every ISA: it is a small part of the work) ------

namespace ref {

void quantize_q8_0(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ8_0*>(out);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::abs(x[j]));
    // As llama.cpp's x86 path: multiplier 127/amax, round half to even.
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    b[i].d = f32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) b[i].qs[j] = static_cast<std::int8_t>(std::nearbyint(x[j] * id));
  }
}

void quantize_q8_1(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ8_1*>(out);
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::abs(x[j]));
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    b[i].d = f32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      b[i].qs[j] = static_cast<std::int8_t>(std::nearbyint(x[j] * id));
      sum += b[i].qs[j];
    }
    b[i].s = f32_to_fp16(d * static_cast<float>(sum));
  }
}

void quantize_q8_k(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ8_K*>(out);
  for (std::int64_t i = 0; i < k / kQKK; ++i, x += kQKK) {
    float max = 0, amax = 0;
    for (int j = 0; j < kQKK; ++j)
      if (std::abs(x[j]) > amax) {
        amax = std::abs(x[j]);
        max = x[j];
      }
    if (amax == 0.0f) {
      b[i].d = 0;
      std::memset(b[i].qs, 0, sizeof b[i].qs);
      std::memset(b[i].bsums, 0, sizeof b[i].bsums);
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQKK; ++j)
      b[i].qs[j] = static_cast<std::int8_t>(std::min(127.0f, std::nearbyint(iscale * x[j])));
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int j = 0; j < 16; ++j) s += b[i].qs[16 * g + j];
      b[i].bsums[g] = static_cast<std::int16_t>(s);
    }
    b[i].d = 1.0f / iscale;
  }
}

void quantize_f16(const float* x, void* out, std::int64_t k) {
  auto* h = static_cast<std::uint16_t*>(out);
  for (std::int64_t i = 0; i < k; ++i) h[i] = f32_to_fp16(x[i]);
}

void quantize_bf16(const float* x, void* out, std::int64_t k) {
  auto* h = static_cast<std::uint16_t*>(out);
  for (std::int64_t i = 0; i < k; ++i) h[i] = f32_to_bf16(x[i]);
}

float dot_f32(const float* a, const float* b, std::int64_t n) {
  double s = 0;
  for (std::int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i] * b[i]);
  return static_cast<float>(s);
}

void dot_rows_f32(const float* q, const float* k, std::int64_t stride, int n, std::int64_t len, float* out) {
  for (int j = 0; j < n; ++j) out[j] = dot_f32(q, k + j * stride, len);
}

void weighted_sum_f32(const float* w, const float* v, std::int64_t stride, int n, std::int64_t len, float* out) {
  for (std::int64_t i = 0; i < len; ++i) out[i] = 0.0f;
  for (int j = 0; j < n; ++j) axpy_f32(w[j], v + j * stride, out, len);
}

void axpy_f32(float a, const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void axpy_f16(float a, const std::uint16_t* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] += a * fp16_to_f32(x[i]);
}

}  // namespace ref

const KernelTable& scalar_table() {
  static const KernelTable t = make_scalar_table();
  return t;
}

bool is_supported(DType type) noexcept { return scalar_table().for_type(type) != nullptr; }

void dequantize_row(DType type, const std::byte* src, float* dst, std::int64_t n) {
  switch (type) {
    case DType::F32: return deq_f32(src, dst, n);
    case DType::F16: return deq_f16(src, dst, n);
    case DType::BF16: return deq_bf16(src, dst, n);
    case DType::Q4_0: return deq_q4_0(src, dst, n);
    case DType::Q4_1: return deq_q4_1(src, dst, n);
    case DType::Q5_0: return deq_q5_0(src, dst, n);
    case DType::Q5_1: return deq_q5_1(src, dst, n);
    case DType::Q8_0: return deq_q8_0(src, dst, n);
    case DType::Q2_K: return deq_k<BlockQ2_K, unpack_q2_k>(src, dst, n);
    case DType::Q3_K: return deq_k<BlockQ3_K, unpack_q3_k>(src, dst, n);
    case DType::Q4_K: return deq_k<BlockQ4_K, unpack_q4_k>(src, dst, n);
    case DType::Q5_K: return deq_k<BlockQ5_K, unpack_q5_k>(src, dst, n);
    case DType::Q6_K: return deq_k<BlockQ6_K, unpack_q6_k>(src, dst, n);
    default: std::memset(dst, 0, sizeof(float) * static_cast<std::size_t>(n));  // never bound: see is_supported
  }
}

const WeightKernels* KernelTable::for_type(DType t) const noexcept {
  switch (t) {
    case DType::F32: return &f32;
    case DType::F16: return &f16;
    case DType::BF16: return &bf16;
    case DType::Q4_0: return &q4_0;
    case DType::Q4_1: return &q4_1;
    case DType::Q5_0: return &q5_0;
    case DType::Q5_1: return &q5_1;
    case DType::Q8_0: return &q8_0;
    case DType::Q2_K: return &q2_k;
    case DType::Q3_K: return &q3_k;
    case DType::Q4_K: return &q4_k;
    case DType::Q5_K: return &q5_k;
    case DType::Q6_K: return &q6_k;
    default: return nullptr;
  }
}

}  // namespace inkling::kernels
