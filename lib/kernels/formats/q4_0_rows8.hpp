// Q4_0 repacked for the vector kernels ("rows8"): the rows of a tensor in groups of 8,
// each group a sequence of BlockQ4_0x8, one per 32-element block position: the 8 rows'
// fp16 scales, then qs bytes 0..7 of rows 0..7 (64 bytes), then qs bytes 8..15 of rows
// 0..7. One 64-byte load thus holds 8 consecutive quants of 8 rows, and a 64-bit
// broadcast of 8 activation bytes lines up with all of them, so one VNNI instruction
// stream serves 8 rows. A group takes exactly the bytes of its 8 plain rows, so the
// repacking happens in place; rows past the last full group stay plain Q4_0.
//
// The activations are Q8_0 plus, per block, the offset term of the two 32-bit lanes a
// row spans: the kernels multiply the unsigned nibbles (q, not q - 8) with the signed
// activations, and start each block's sum at -8 * (sum of the lane's activations).
#pragma once

#include <vector>

#include "kernels/formats/q4_0.hpp"

namespace inkling::kernels {

inline constexpr std::uint32_t kLayoutRows8 = 1;  // TensorView::layout of this format

#pragma pack(push, 1)
struct BlockQ4_0x8 { std::uint16_t d[8]; std::uint8_t qs[128]; };
// start[0]: -8 * sum of elements {0-3, 8-11, 16-19, 24-27}; start[1]: the other 16.
struct BlockQ8_0x { std::int8_t qs[kQK]; std::int32_t start[2]; float d; std::int32_t pad; };
#pragma pack(pop)
static_assert(sizeof(BlockQ4_0x8) == 8 * sizeof(BlockQ4_0));
static_assert(sizeof(BlockQ8_0x) == 48);

namespace ref {

// Activation row of k floats -> k / 32 BlockQ8_0x (the codes and scale of quantize_q8_0).
static inline void quantize_q8_0x(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ8_0x*>(out);
  for (std::int64_t i = 0; i < k / kQK; ++i) {
    BlockQ8_0 q;
    quantize_q8_0(x + i * kQK, &q, kQK);
    std::memcpy(b[i].qs, q.qs, kQK);
    int s[2] = {0, 0};
    for (int j = 0; j < kQK; ++j) s[(j / 4) % 2] += q.qs[j];
    b[i].start[0] = -8 * s[0];
    b[i].start[1] = -8 * s[1];
    b[i].d = fp16_to_f32(q.d);
    b[i].pad = 0;
  }
}

static inline std::size_t activation_row_q8_0x(std::int64_t k) {
  return sizeof(BlockQ8_0x) * static_cast<std::size_t>(k / kQK);
}

// Repacks `rows` plain Q4_0 rows of k elements in place (full groups of 8 only).
static inline void repack_q4_0_rows8(std::byte* data, std::int64_t k, std::int64_t rows) {
  const std::int64_t nb = k / kQK;
  const std::size_t row_bytes = sizeof(BlockQ4_0) * static_cast<std::size_t>(nb);
  std::vector<BlockQ4_0> plain(static_cast<std::size_t>(8 * nb));
  for (std::int64_t g = 0; g + 8 <= rows; g += 8) {
    std::byte* group = data + row_bytes * static_cast<std::size_t>(g);
    std::memcpy(plain.data(), group, 8 * row_bytes);
    auto* out = reinterpret_cast<BlockQ4_0x8*>(group);
    for (std::int64_t b = 0; b < nb; ++b)
      for (int r = 0; r < 8; ++r) {
        const BlockQ4_0& src = plain[static_cast<std::size_t>(r * nb + b)];
        out[b].d[r] = src.d;
        std::memcpy(out[b].qs + 8 * r, src.qs, 8);
        std::memcpy(out[b].qs + 64 + 8 * r, src.qs + 8, 8);
      }
  }
}

// Plain block b of row r (0..7) of a repacked group.
static inline BlockQ4_0 q4_0_rows8_block(const BlockQ4_0x8& x, int r) {
  BlockQ4_0 b;
  b.d = x.d[r];
  std::memcpy(b.qs, x.qs + 8 * r, 8);
  std::memcpy(b.qs + 8, x.qs + 64 + 8 * r, 8);
  return b;
}

static inline float dot_q4_0_q8_0x(std::int64_t nb, const BlockQ4_0* w, const BlockQ8_0x* a) {
  float sum = 0;
  for (std::int64_t i = 0; i < nb; ++i) {
    int sumi = 0;
    for (int j = 0; j < 16; ++j)
      sumi += ((w[i].qs[j] & 0xF) - 8) * a[i].qs[j] + ((w[i].qs[j] >> 4) - 8) * a[i].qs[j + 16];
    sum += static_cast<float>(sumi) * (fp16_to_f32(w[i].d) * a[i].d);
  }
  return sum;
}

// The reference GemmFn of the layout: rows 0.. of the call start at a group boundary;
// full groups are repacked, a last partial group (the tensor's tail) is plain.
static inline void gemm_q4_0_rows8(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a,
                                   std::size_t a_row, int tokens, float* y, std::int64_t ldy, std::byte* /*scratch*/) {
  const std::int64_t nb = k / kQK;
  std::vector<BlockQ4_0> row(static_cast<std::size_t>(nb));
  for (int r = 0; r < rows; ++r) {
    const std::byte* base = w + w_row * static_cast<std::size_t>(r / 8 * 8);
    if (r / 8 * 8 + 8 <= rows) {
      const auto* group = reinterpret_cast<const BlockQ4_0x8*>(base);
      for (std::int64_t b = 0; b < nb; ++b) row[static_cast<std::size_t>(b)] = q4_0_rows8_block(group[b], r % 8);
    } else {
      std::memcpy(row.data(), w + w_row * static_cast<std::size_t>(r), w_row);
    }
    for (int t = 0; t < tokens; ++t)
      y[t * ldy + r] = dot_q4_0_q8_0x(nb, row.data(), reinterpret_cast<const BlockQ8_0x*>(a + a_row * static_cast<std::size_t>(t)));
  }
}

}  // namespace ref

// The entry for rows8 tensors: gemm only (rows are interleaved, so there is no per-row
// vec_dot); matmul uses it for single tokens too.
static inline WeightKernels q4_0_rows8_reference() {
  WeightKernels k;
  k.activation_type = DType::Q8_0;
  k.activation_row = ref::activation_row_q8_0x;
  k.quantize = ref::quantize_q8_0x;
  k.gemm = ref::gemm_q4_0_rows8;
  k.repack_layout = kLayoutRows8;
  return k;
}

// Registration (scalar table): the layout's reference kernels. Backends that make the
// layout pay (x86) also set the plain entry's repack, so weights get repacked at load.
static inline void register_q4_0_rows8(KernelTable& t) { t.packed_at(DType::Q4_0) = q4_0_rows8_reference(); }

}  // namespace inkling::kernels
