// The "rows8" layout of the 4- and 5-bit types Q4_0, Q4_1, Q5_0 and Q5_1, into which the
// vector backends repack weights at load: the rows of a tensor in groups of 8, each group
// a sequence of one record per 32-element block position:
//   d[8]       the 8 rows' fp16 scales
//   m[8]       their fp16 offsets            (Q4_1, Q5_1)
//   qh[4][8]   byte c of each row's qh: bits of elements 8c..8c+7   (Q5_0, Q5_1)
//   qs[128]    qs bytes 0..7 of rows 0..7, then qs bytes 8..15 of rows 0..7
// One 64-byte load thus holds 8 consecutive quants of 8 rows, and a 64-bit broadcast of
// 8 activation bytes lines up with all of them, so one VNNI instruction stream serves 8
// rows; a row's fifth bits for those 8 quants are one byte, i.e. a byte mask. A record
// takes exactly the bytes of the 8 plain blocks, so repacking happens in place; rows past
// the last full group stay plain.
//
// The activations (BlockQ8_0x) are Q8_0's codes and scale plus, per block, the offset
// term of the two 32-bit lanes a row spans (the kernels multiply unsigned quants, q and
// not q - 8, with the signed activations, and start each block's sums at -8 or -16 times
// the lane's activation sum) and d * sum(a) for the offsets m.
#pragma once

#include <vector>

#include "kernels/formats/q4_0.hpp"
#include "kernels/formats/q4_1.hpp"
#include "kernels/formats/q5_0.hpp"
#include "kernels/formats/q5_1.hpp"

namespace inkling::kernels {

inline constexpr std::uint32_t kLayoutRows8 = 1;  // TensorView::layout of this layout

#pragma pack(push, 1)
// start[0]: -8 * sum of elements {0-3, 8-11, 16-19, 24-27}; start[1]: of the other 16.
struct BlockQ8_0x { std::int8_t qs[kQK]; std::int32_t start[2]; float d; float s; };
#pragma pack(pop)
static_assert(sizeof(BlockQ8_0x) == 48);

// Where each part of a plain block and of a rows8 record lies, per type.
template <typename Block>
struct Rows8Format {
  static constexpr bool kMin = std::is_same_v<Block, BlockQ4_1> || std::is_same_v<Block, BlockQ5_1>;
  static constexpr bool kHigh = std::is_same_v<Block, BlockQ5_0> || std::is_same_v<Block, BlockQ5_1>;
  static constexpr int kPlainQh = kMin ? 4 : 2, kPlainQs = kPlainQh + (kHigh ? 4 : 0);
  static constexpr int kM = 16, kQh = kM + (kMin ? 16 : 0), kQs = kQh + (kHigh ? 32 : 0);
  static constexpr int kBytes = kQs + 128;
  static_assert(kBytes == 8 * sizeof(Block));
  // Offset of the quants: the kernels compute with q (unsigned), x = d * (q - offset) + m.
  static constexpr int kOffset = kMin ? 0 : kHigh ? 16 : 8;
};

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
    b[i].s = b[i].d * static_cast<float>(s[0] + s[1]);
  }
}

static inline std::size_t activation_row_q8_0x(std::int64_t k) {
  return sizeof(BlockQ8_0x) * static_cast<std::size_t>(k / kQK);
}

// Repacks `rows` plain rows of k elements in place (full groups of 8 only).
template <typename Block>
static void repack_rows8(std::byte* data, std::int64_t k, std::int64_t rows) {
  using F = Rows8Format<Block>;
  const std::int64_t nb = k / kQK;
  const std::size_t row_bytes = sizeof(Block) * static_cast<std::size_t>(nb);
  std::vector<std::uint8_t> plain(8 * row_bytes);
  for (std::int64_t g = 0; g + 8 <= rows; g += 8) {
    std::byte* group = data + row_bytes * static_cast<std::size_t>(g);
    std::memcpy(plain.data(), group, 8 * row_bytes);
    auto* out = reinterpret_cast<std::uint8_t*>(group);
    for (std::int64_t b = 0; b < nb; ++b, out += F::kBytes)
      for (int r = 0; r < 8; ++r) {
        const std::uint8_t* src = plain.data() + row_bytes * static_cast<std::size_t>(r) + sizeof(Block) * static_cast<std::size_t>(b);
        std::memcpy(out + 2 * r, src, 2);
        if constexpr (F::kMin) std::memcpy(out + F::kM + 2 * r, src + 2, 2);
        if constexpr (F::kHigh)
          for (int c = 0; c < 4; ++c) out[F::kQh + 8 * c + r] = src[F::kPlainQh + c];
        std::memcpy(out + F::kQs + 8 * r, src + F::kPlainQs, 8);
        std::memcpy(out + F::kQs + 64 + 8 * r, src + F::kPlainQs + 8, 8);
      }
  }
}

// Plain block of row r (0..7) from a rows8 record.
template <typename Block>
static Block rows8_block(const std::uint8_t* rec, int r) {
  using F = Rows8Format<Block>;
  std::uint8_t b[sizeof(Block)];
  std::memcpy(b, rec + 2 * r, 2);
  if constexpr (F::kMin) std::memcpy(b + 2, rec + F::kM + 2 * r, 2);
  if constexpr (F::kHigh)
    for (int c = 0; c < 4; ++c) b[F::kPlainQh + c] = rec[F::kQh + 8 * c + r];
  std::memcpy(b + F::kPlainQs, rec + F::kQs + 8 * r, 8);
  std::memcpy(b + F::kPlainQs + 8, rec + F::kQs + 64 + 8 * r, 8);
  Block out;
  std::memcpy(&out, b, sizeof out);
  return out;
}

// One plain row against BlockQ8_0x activations, through the format's dequantizer.
template <typename Block, DequantizeFn Dequantize>
static float dot_rows8_plain(std::int64_t nb, const Block* w, const BlockQ8_0x* a) {
  float sum = 0;
  float x[kQK];
  for (std::int64_t i = 0; i < nb; ++i) {
    Dequantize(&w[i], x, kQK);
    float s = 0;
    for (int j = 0; j < kQK; ++j) s += x[j] * static_cast<float>(a[i].qs[j]);
    sum += s * a[i].d;
  }
  return sum;
}

// The reference GemmFn of the layout: rows 0.. of the call start at a group boundary;
// full groups are repacked, a last partial group (the tensor's tail) is plain.
template <typename Block, DequantizeFn Dequantize>
static void gemm_rows8(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a,
                       std::size_t a_row, int tokens, float* y, std::int64_t ldy, std::byte* /*scratch*/) {
  const std::int64_t nb = k / kQK;
  std::vector<Block> row(static_cast<std::size_t>(nb));
  for (int r = 0; r < rows; ++r) {
    const auto* base = reinterpret_cast<const std::uint8_t*>(w + w_row * static_cast<std::size_t>(r / 8 * 8));
    if (r / 8 * 8 + 8 <= rows) {
      for (std::int64_t b = 0; b < nb; ++b)
        row[static_cast<std::size_t>(b)] = rows8_block<Block>(base + Rows8Format<Block>::kBytes * b, r % 8);
    } else {
      std::memcpy(row.data(), w + w_row * static_cast<std::size_t>(r), w_row);
    }
    for (int t = 0; t < tokens; ++t)
      y[t * ldy + r] = dot_rows8_plain<Block, Dequantize>(
          nb, row.data(), reinterpret_cast<const BlockQ8_0x*>(a + a_row * static_cast<std::size_t>(t)));
  }
}

}  // namespace ref

// The entry for rows8 tensors of one type: gemm only (rows are interleaved, so there is
// no per-row vec_dot); matmul uses it for single tokens too.
template <typename Block, DequantizeFn Dequantize>
static WeightKernels rows8_reference() {
  WeightKernels k;
  k.activation_type = DType::Q8_0;
  k.activation_row = ref::activation_row_q8_0x;
  k.quantize = ref::quantize_q8_0x;
  k.gemm = ref::gemm_rows8<Block, Dequantize>;
  k.repack_layout = kLayoutRows8;
  return k;
}

// Registration (scalar table): the layout's reference kernels. Backends that make the
// layout pay (x86) also set the plain entries' repack, so weights get repacked at load.
static inline void register_rows8(KernelTable& t) {
  t.packed_at(DType::Q4_0) = rows8_reference<BlockQ4_0, ref::dequantize_q4_0>();
  t.packed_at(DType::Q4_1) = rows8_reference<BlockQ4_1, ref::dequantize_q4_1>();
  t.packed_at(DType::Q5_0) = rows8_reference<BlockQ5_0, ref::dequantize_q5_0>();
  t.packed_at(DType::Q5_1) = rows8_reference<BlockQ5_1, ref::dequantize_q5_1>();
}

}  // namespace inkling::kernels
