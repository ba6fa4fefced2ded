// The "klanes" layout of Q4_K and Q6_K, into which the AVX-512 VNNI backend repacks
// weights at load: each super-block keeps its bytes, header and scales in place, but its
// quants are reordered so that one vpdpbusd lane sums one 16-element sub-block.
//
// Packed position p = 64c + 4l + e (c < 4 vectors of 64 bytes, l < 16 lanes of 4 bytes,
// e < 4) holds element 16l + 4c + e. Four VNNI instructions over the four vectors thus
// leave in lane l the sum over the 16 elements of sub-block l (Q6_K's scale unit; Q4_K's
// 32-element sub-block j is lanes 2j, 2j+1), and the scales apply once per super-block
// as one lane-wise multiply instead of one per 32 or 16 elements.
//   Q4_K: qs[128] becomes two 64-byte vectors V0, V1; byte j of Vh holds position
//         64(2h) + j in its low nibble and 64(2h+1) + j in its high nibble.
//   Q6_K: ql[128] the same with the low 4 bits; qh[64]: bits 2c, 2c+1 of byte j are the
//         top 2 bits of position 64c + j. scales and d stay where they are.
// Rows stay rows (no interleaving), so the repack is per block and in place, and a tensor
// has no plain tail. The activations (BlockQ8_KL) are Q8_K's codes in the same order plus
// d * (sum of each 16 codes), through which Q4_K's mins and Q6_K's offset 32 act.
#pragma once

#include <vector>

#include "kernels/formats/q4_k.hpp"
#include "kernels/formats/q6_k.hpp"

namespace inkling::kernels {

inline constexpr std::uint32_t kLayoutKLanes = 2;  // TensorView::layout of this layout

#pragma pack(push, 1)
struct BlockQ8_KL { std::int8_t qs[kQKK]; float bsd[16]; float d; };
#pragma pack(pop)
static_assert(sizeof(BlockQ8_KL) == 324);

namespace ref {

// Element held at packed position p.
static inline int klanes_element(int p) { return 16 * ((p % 64) / 4) + 4 * (p / 64) + p % 4; }

// A Q8_K block in lane order.
static inline void q8_k_to_lanes(const BlockQ8_K& in, BlockQ8_KL& out) {
  for (int p = 0; p < kQKK; p += 4) std::memcpy(out.qs + p, in.qs + klanes_element(p), 4);
  for (int l = 0; l < 16; ++l) out.bsd[l] = in.d * static_cast<float>(in.bsums[l]);
  out.d = in.d;
}

static inline void quantize_q8_kl(const float* x, void* out, std::int64_t k) {
  auto* b = static_cast<BlockQ8_KL*>(out);
  for (std::int64_t i = 0; i < k / kQKK; ++i) {
    BlockQ8_K q;
    quantize_q8_k(x + i * kQKK, &q, kQKK);
    q8_k_to_lanes(q, b[i]);
  }
}

static inline std::size_t activation_row_q8_kl(std::int64_t k) {
  return sizeof(BlockQ8_KL) * static_cast<std::size_t>(k / kQKK);
}

// The 256 quants of a block (Q6_K: 0..63, without the offset) in element order.
static inline void klanes_get(const BlockQ4_K& b, std::uint8_t* q) {
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      q[64 * c + l] = b.qs[32 * c + l] & 0xF;
      q[64 * c + 32 + l] = b.qs[32 * c + l] >> 4;
    }
}
static inline void klanes_get(const BlockQ6_K& b, std::uint8_t* q) {
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {  // as unpack_q6_k
      const std::uint8_t* ql = b.ql + 64 * h;
      const int qh = b.qh[32 * h + l];
      std::uint8_t* o = q + 128 * h;
      o[l] = static_cast<std::uint8_t>((ql[l] & 0xF) | (qh & 3) << 4);
      o[l + 32] = static_cast<std::uint8_t>((ql[l + 32] & 0xF) | ((qh >> 2) & 3) << 4);
      o[l + 64] = static_cast<std::uint8_t>((ql[l] >> 4) | ((qh >> 4) & 3) << 4);
      o[l + 96] = static_cast<std::uint8_t>((ql[l + 32] >> 4) | ((qh >> 6) & 3) << 4);
    }
}

// Element order <-> packed order, 4 quants at a time (to_lanes: q -> packed).
static inline void klanes_permute(const std::uint8_t* from, std::uint8_t* to, bool to_lanes) {
  for (int p = 0; p < kQKK; p += 4) {
    if (to_lanes) std::memcpy(to + p, from + klanes_element(p), 4);
    else std::memcpy(to + klanes_element(p), from + p, 4);
  }
}

// Plain block -> lanes block (to_lanes) or back.
static inline void klanes_convert(const BlockQ4_K& in, BlockQ4_K& out, bool to_lanes) {
  out = in;
  std::uint8_t q[kQKK], qp[kQKK];
  if (to_lanes) {
    klanes_get(in, q);
    klanes_permute(q, qp, true);
    for (int h = 0; h < 2; ++h)
      for (int j = 0; j < 64; ++j) out.qs[64 * h + j] = static_cast<std::uint8_t>(qp[128 * h + j] | qp[128 * h + 64 + j] << 4);
  } else {
    for (int h = 0; h < 2; ++h)
      for (int j = 0; j < 64; ++j) {
        qp[128 * h + j] = in.qs[64 * h + j] & 0xF;
        qp[128 * h + 64 + j] = in.qs[64 * h + j] >> 4;
      }
    klanes_permute(qp, q, false);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) out.qs[32 * c + l] = static_cast<std::uint8_t>(q[64 * c + l] | q[64 * c + 32 + l] << 4);
  }
}
static inline void klanes_convert(const BlockQ6_K& in, BlockQ6_K& out, bool to_lanes) {
  out = in;
  std::uint8_t q[kQKK], qp[kQKK];
  if (to_lanes) {
    klanes_get(in, q);
    klanes_permute(q, qp, true);
    for (int h = 0; h < 2; ++h)
      for (int j = 0; j < 64; ++j)
        out.ql[64 * h + j] = static_cast<std::uint8_t>((qp[128 * h + j] & 0xF) | (qp[128 * h + 64 + j] & 0xF) << 4);
    for (int j = 0; j < 64; ++j)
      out.qh[j] = static_cast<std::uint8_t>(qp[j] >> 4 | (qp[64 + j] >> 4) << 2 | (qp[128 + j] >> 4) << 4 | (qp[192 + j] >> 4) << 6);
    return;
  }
  for (int h = 0; h < 2; ++h)
    for (int j = 0; j < 64; ++j) {
      const int lo = in.ql[64 * h + j];
      qp[128 * h + j] = static_cast<std::uint8_t>((lo & 0xF) | ((in.qh[j] >> (4 * h)) & 3) << 4);
      qp[128 * h + 64 + j] = static_cast<std::uint8_t>((lo >> 4) | ((in.qh[j] >> (4 * h + 2)) & 3) << 4);
    }
  klanes_permute(qp, q, false);
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {  // the inverse of klanes_get
      const std::uint8_t* s = q + 128 * h;
      out.ql[64 * h + l] = static_cast<std::uint8_t>((s[l] & 0xF) | (s[l + 64] & 0xF) << 4);
      out.ql[64 * h + l + 32] = static_cast<std::uint8_t>((s[l + 32] & 0xF) | (s[l + 96] & 0xF) << 4);
      out.qh[32 * h + l] =
          static_cast<std::uint8_t>(s[l] >> 4 | (s[l + 32] >> 4) << 2 | (s[l + 64] >> 4) << 4 | (s[l + 96] >> 4) << 6);
    }
}

// Repacks `rows` plain rows of k elements in place.
template <typename Block>
static void repack_klanes(std::byte* data, std::int64_t k, std::int64_t rows) {
  auto* b = reinterpret_cast<Block*>(data);
  for (std::int64_t i = 0; i < rows * (k / kQKK); ++i) {
    Block plain;
    std::memcpy(&plain, b + i, sizeof plain);
    Block packed;
    klanes_convert(plain, packed, true);
    std::memcpy(b + i, &packed, sizeof packed);
  }
}

// The reference GemmFn of the layout: every row and token converted back to the plain
// layout and through the plain reference dot product.
template <typename Block, void (*Unpack)(const Block&, KUnpacked&)>
static void gemm_klanes(std::int64_t k, const std::byte* w, std::size_t w_row, int rows, const std::byte* a,
                        std::size_t a_row, int tokens, float* y, std::int64_t ldy, std::byte* /*scratch*/) {
  const std::int64_t nb = k / kQKK;
  std::vector<BlockQ8_K> act(static_cast<std::size_t>(nb * tokens));
  for (int t = 0; t < tokens; ++t)
    for (std::int64_t i = 0; i < nb; ++i) {
      BlockQ8_KL in;
      std::memcpy(&in, a + a_row * static_cast<std::size_t>(t) + sizeof in * static_cast<std::size_t>(i), sizeof in);
      BlockQ8_K& out = act[static_cast<std::size_t>(t * nb + i)];
      for (int p = 0; p < kQKK; ++p) out.qs[klanes_element(p)] = in.qs[p];
      for (int g = 0; g < 16; ++g) {
        int s = 0;
        for (int j = 0; j < 16; ++j) s += out.qs[16 * g + j];
        out.bsums[g] = static_cast<std::int16_t>(s);
      }
      out.d = in.d;
    }
  std::vector<Block> row(static_cast<std::size_t>(nb));
  for (int r = 0; r < rows; ++r) {
    for (std::int64_t i = 0; i < nb; ++i) {
      Block packed;
      std::memcpy(&packed, w + w_row * static_cast<std::size_t>(r) + sizeof packed * static_cast<std::size_t>(i), sizeof packed);
      klanes_convert(packed, row[static_cast<std::size_t>(i)], false);
    }
    for (int t = 0; t < tokens; ++t)
      y[t * ldy + r] = vec_dot_k<Block, Unpack>(k, row.data(), act.data() + t * nb);
  }
}

}  // namespace ref

// The entry for klanes tensors of one type: gemm only (matmul uses it for single tokens
// too).
template <typename Block, void (*Unpack)(const Block&, KUnpacked&)>
static WeightKernels klanes_reference() {
  WeightKernels k;
  k.activation_type = DType::Q8_K;
  k.activation_row = ref::activation_row_q8_kl;
  k.quantize = ref::quantize_q8_kl;
  k.gemm = ref::gemm_klanes<Block, Unpack>;
  k.repack_layout = kLayoutKLanes;
  return k;
}

// Registration (scalar table): the layout's reference kernels. The AVX-512 VNNI backend
// also sets the plain entries' repack, so weights get repacked at load there.
static inline void register_klanes(KernelTable& t) {
  t.packed_at(DType::Q4_K) = klanes_reference<BlockQ4_K, ref::unpack_q4_k>();
  t.packed_at(DType::Q6_K) = klanes_reference<BlockQ6_K, ref::unpack_q6_k>();
}

}  // namespace inkling::kernels
