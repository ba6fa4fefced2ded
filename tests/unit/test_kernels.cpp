// Every vectorised kernel against the scalar reference, on random data and odd sizes,
// and the scalar reference itself against hand-built blocks (REFERENCE.md §2).
#include <doctest/doctest.h>
#include <omp.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/model.hpp"
#include "inkling/tensor.hpp"
#include "kernels/formats/all.hpp"
#include "kernels/fp16.hpp"
#include "kernels/kernel_table.hpp"
#include "kernels/kernels.hpp"
#include "kernel_test_data.hpp"
#include "shared_data.hpp"

using namespace inkling;
using namespace inkling::kernels;

namespace {

using test::random_weights;
using test::run_matmul;
const auto view = test::weight_view;

void set_env(const char* name, const char* value) {
#if defined(_WIN32)
  _putenv_s(name, value ? value : "");  // "" removes it
#else
  if (value) ::setenv(name, value, 1);
  else ::unsetenv(name);
#endif
}

const DType kAllTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                           DType::Q8_0, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};

}  // namespace

TEST_CASE("vectorised matmul equals the scalar reference for every type, ISA and odd size") {
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  int compared = 0;
  for (DType type : kAllTypes) {
    REQUIRE(is_supported(type));
    const bool k_quant = dtype_traits(type).block_elems == 256;
    const std::vector<std::int64_t> ks = k_quant ? std::vector<std::int64_t>{256, 768, 2816}
                                                 : std::vector<std::int64_t>{32, 96, 768, 4128};
    for (std::int64_t k : ks)
      for (std::int64_t m : {1, 3, 17, 64})
        for (int n : {1, 2, 5, 33}) {
          if (k * m * n > 3'000'000) continue;
          const auto wdata = random_weights(type, k, m, rng);
          const TensorView w = view(type, k, m, wdata);
          std::vector<float> x(static_cast<std::size_t>(k * n));
          for (auto& v : x) v = normal(rng);
          const auto ref = run_matmul(Isa::Scalar, w, x, n, 1);
          for (Isa isa : kAllIsas) {
            if (isa == Isa::Scalar || !isa_supported(isa)) continue;
            for (int threads : {1, 2}) {
              const auto got = run_matmul(isa, w, x, n, threads);
              double worst = 0;
              for (std::size_t i = 0; i < ref.size(); ++i) {
                const double tol = 1e-4 * (std::abs(ref[i]) + 1.0) * std::sqrt(static_cast<double>(k) / 32.0);
                worst = std::max(worst, std::abs(got[i] - ref[i]) / tol);
              }
              INFO(dtype_name(type) << " k=" << k << " m=" << m << " n=" << n << " " << isa_name(isa) << " t=" << threads);
              CHECK(worst <= 1.0);
              ++compared;
            }
          }
        }
  }
  MESSAGE(compared << " kernel configurations compared with the scalar reference");
}

TEST_CASE("gemm tiles equal the same table's vec_dot on every row and token tail") {
  // Drives each GemmFn directly with every row count 1..9 and token count 1..11 (all
  // register-tile tails), a row stride into a larger output (ldy > rows), and sentinels
  // around the tile that must stay untouched. Activations include a spiked row, whose
  // quantization reaches the extreme int8 codes.
  std::mt19937 rng(99);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  int compared = 0;
  for (Isa isa : kAllIsas) {
    if (!isa_supported(isa)) continue;
    const KernelTable& table = table_for(isa);
    for (DType type : kAllTypes) {
      const WeightKernels* wk = table.for_type(type);
      REQUIRE(wk != nullptr);
      if (!wk->gemm) continue;
      // Float types take any length: an odd one exercises every vector tail.
      const std::int64_t k = dtype_traits(type).block_elems == 256 ? 768 : dtype_traits(type).block_elems == 1 ? 173 : 160;
      constexpr int kMaxRows = 9, kMaxTokens = 11;
      const auto wdata = random_weights(type, k, kMaxRows, rng);
      const std::size_t w_row = static_cast<std::size_t>(dtype_row_bytes(type, k));
      const std::size_t a_row = static_cast<std::size_t>(dtype_row_bytes(wk->activation_type, k));
      std::vector<std::byte> act(a_row * kMaxTokens);
      std::vector<float> x(static_cast<std::size_t>(k));
      std::vector<std::vector<float>> xs;  // each token's activations, for the error scale
      for (int t = 0; t < kMaxTokens; ++t) {
        for (auto& v : x) v = normal(rng);
        if (t == 3) x[5] = -40.0f, x[static_cast<std::size_t>(std::min<std::int64_t>(200, k - 1))] = 35.0f;
        xs.push_back(x);
        if (wk->quantize)
          wk->quantize(x.data(), act.data() + a_row * static_cast<std::size_t>(t), k);
        else  // F32 weights take the activations as they are
          std::memcpy(act.data() + a_row * static_cast<std::size_t>(t), x.data(), a_row);
      }
      const std::int64_t ldy = kMaxRows + 3;
      for (int rows = 1; rows <= kMaxRows; ++rows)
        for (int tokens = 1; tokens <= kMaxTokens; ++tokens) {
          std::vector<float> y(static_cast<std::size_t>(ldy * (kMaxTokens + 1)), -777.0f);
          // The caller's scratch, 64-byte aligned, filled with NaN bytes: a tile must
          // write what it reads there.
          const std::size_t scratch_bytes = wk->gemm_scratch ? wk->gemm_scratch(k) : 0;
          std::vector<std::byte> scratch(scratch_bytes + 64, std::byte{0xFF});
          std::byte* aligned = scratch.data() + (64 - reinterpret_cast<std::uintptr_t>(scratch.data()) % 64) % 64;
          wk->gemm(k, wdata.data(), w_row, rows, act.data(), a_row, tokens, y.data() + 1, ldy, aligned);
          double worst = 0;
          float worst_got = 0, worst_want = 0;
          int clobbered = 0;
          for (int t = 0; t <= kMaxTokens; ++t)
            for (std::int64_t i = 0; i < ldy; ++i) {
              const std::int64_t r = i - 1;  // y was offset by one element
              const float got = y[static_cast<std::size_t>(t * ldy + i)];
              if (t >= tokens || r < 0 || r >= rows) {
                clobbered += got != -777.0f;
                continue;
              }
              const float want = wk->vec_dot(k, wdata.data() + w_row * static_cast<std::size_t>(r),
                                             act.data() + a_row * static_cast<std::size_t>(t));
              // Float sums of the same terms in another order differ by a few ulps of the
              // terms' magnitude, not of the result: a row of large weights whose products
              // cancel to a small sum is allowed an error relative to sum |w_i x_i|.
              std::vector<float> wrow(static_cast<std::size_t>(k));
              dequantize_row(type, wdata.data() + w_row * static_cast<std::size_t>(r), wrow.data(), k);
              double magnitude = 0;
              for (std::int64_t e = 0; e < k; ++e)
                magnitude += std::abs(static_cast<double>(wrow[static_cast<std::size_t>(e)]) * xs[static_cast<std::size_t>(t)][static_cast<std::size_t>(e)]);
              const double tol = 1e-5 * (std::abs(want) + 1.0) * std::sqrt(static_cast<double>(k) / 32.0) + 1e-6 * magnitude;
              if (std::abs(got - want) / tol > worst) {
                worst = std::abs(got - want) / tol;
                worst_got = got;
                worst_want = want;
              }
            }
          INFO(dtype_name(type) << " " << isa_name(isa) << " rows=" << rows << " tokens=" << tokens << " got " << worst_got
                                << " want " << worst_want);
          CHECK(worst <= 1.0);
          // The float types promise more: bit-identical to vec_dot (speculation relies on it).
          if (type == DType::F32 || type == DType::F16 || type == DType::BF16) CHECK(worst == 0.0);
          CHECK(clobbered == 0);
          ++compared;
        }
    }
  }
  MESSAGE(compared << " gemm tile shapes compared with vec_dot");
}

TEST_CASE("dequantize agrees with the dot product on a one-hot activation") {
  // dot(w, e_j) with F32 activations equals the j-th dequantized value: checks that
  // dequantize_row and the F32 path read the same layout.
  std::mt19937 rng(7);
  const auto data = random_weights(DType::F32, 64, 2, rng);
  std::vector<float> row(64);
  dequantize_row(DType::F32, data.data(), row.data(), 64);
  CHECK(row[5] == reinterpret_cast<const float*>(data.data())[5]);
}

TEST_CASE("Q4_0 layout: low nibbles are elements 0..15, high nibbles 16..31, offset 8") {
  BlockQ4_0 b{};
  b.d = f32_to_fp16(0.5f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<std::uint8_t>((j & 0xF) | (((15 - j) & 0xF) << 4));
  float y[32];
  dequantize_row(DType::Q4_0, reinterpret_cast<const std::byte*>(&b), y, 32);
  CHECK(y[0] == (0 - 8) * 0.5f);
  CHECK(y[3] == (3 - 8) * 0.5f);
  CHECK(y[16] == (15 - 8) * 0.5f);
  CHECK(y[31] == (0 - 8) * 0.5f);
}

TEST_CASE("Q8_0 layout and activation quantization") {
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16) / 4.0f;  // max |x| = 4
  BlockQ8_0 q{};
  ref::quantize_q8_0(x, &q, 32);
  CHECK(fp16_to_f32(q.d) == doctest::Approx(4.0f / 127.0f).epsilon(1e-3));
  CHECK(q.qs[0] == -127);
  CHECK(q.qs[16] == 0);
  float y[32];
  dequantize_row(DType::Q8_0, reinterpret_cast<const std::byte*>(&q), y, 32);
  for (int i = 0; i < 32; ++i) CHECK(y[i] == doctest::Approx(x[i]).epsilon(0.02));
  for (Isa isa : kAllIsas) {
    if (!isa_supported(isa)) continue;
    BlockQ8_0 v{};
    table_for(isa).for_type(DType::Q8_0)->quantize(x, &v, 32);
    INFO(isa_name(isa));
    CHECK(std::memcmp(&q, &v, sizeof q) == 0);
  }
}

TEST_CASE("Q4_K layout: 6-bit scales and mins, low nibbles first in each 64-element chunk") {
  BlockQ4_K b{};
  b.d = f32_to_fp16(1.0f);
  b.dmin = f32_to_fp16(0.5f);
  // scale j = j + 1, min j = 2 for every sub-block j, packed as REFERENCE.md §2.2 says
  const std::uint8_t sc[8] = {1, 2, 3, 4, 5, 6, 7, 8}, mn[8] = {2, 2, 2, 2, 2, 2, 2, 40};
  for (int j = 0; j < 4; ++j) {
    b.scales[j] = static_cast<std::uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    b.scales[j + 4] = static_cast<std::uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
    b.scales[j + 8] = static_cast<std::uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
  }
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<std::uint8_t>(3 | (5 << 4));
  float y[256];
  dequantize_row(DType::Q4_K, reinterpret_cast<const std::byte*>(&b), y, 256);
  CHECK(y[0] == 1 * 3 - 0.5f * 2);           // chunk 0, low nibble: sub-block 0
  CHECK(y[32] == 2 * 5 - 0.5f * 2);          // chunk 0, high nibble: sub-block 1
  CHECK(y[64 * 3 + 32] == 8 * 5 - 0.5f * 40);  // chunk 3, high nibble: sub-block 7
}

TEST_CASE("Q6_K layout: 4 low bits in ql, 2 high bits in qh, signed scales, offset 32") {
  BlockQ6_K b{};
  b.d = f32_to_fp16(0.25f);
  for (int i = 0; i < 16; ++i) b.scales[i] = static_cast<std::int8_t>(i - 8);
  b.ql[0] = 0x21;   // element 0: low 1; element 64: low 2
  b.qh[0] = 0x1B;   // element 0: high 3 (bits 0-1), element 32: high 2 (bits 2-3), element 64: high 1 (bits 4-5)
  float y[256];
  dequantize_row(DType::Q6_K, reinterpret_cast<const std::byte*>(&b), y, 256);
  CHECK(y[0] == 0.25f * (0 - 8) * ((1 | (3 << 4)) - 32));
  CHECK(y[32] == 0.25f * (2 - 8) * ((0 | (2 << 4)) - 32));
  CHECK(y[64] == 0.25f * (4 - 8) * ((2 | (1 << 4)) - 32));
}

TEST_CASE("fp16 and bf16 conversions are exact on edge cases") {
  CHECK(f32_to_fp16(1.0f) == 0x3C00);
  CHECK(f32_to_fp16(-2.0f) == 0xC000);
  CHECK(f32_to_fp16(65504.0f) == 0x7BFF);
  CHECK(f32_to_fp16(65520.0f) == 0x7C00);  // rounds to infinity
  CHECK(f32_to_fp16(1e-8f) == 0x0000);
  CHECK(f32_to_fp16(5.9604645e-8f) == 0x0001);  // smallest subnormal
  CHECK(f32_to_fp16(1.0f + 1.0f / 2048) == 0x3C00);  // tie -> even
  CHECK(f32_to_fp16(1.0f + 3.0f / 2048) == 0x3C02);  // tie -> even (up)
  CHECK((f32_to_fp16(NAN) & 0x7C00) == 0x7C00);
  CHECK((f32_to_fp16(NAN) & 0x3FF) != 0);
  CHECK(fp16_to_f32(0x0001) == 5.9604645e-8f);
  CHECK(fp16_to_f32(0x7C00) == INFINITY);
  CHECK(std::isnan(fp16_to_f32(0x7E00)));
  for (std::uint32_t h = 0; h < 0x7C00; ++h) CHECK_MESSAGE(f32_to_fp16(fp16_to_f32(static_cast<std::uint16_t>(h))) == h, h);
  CHECK(f32_to_bf16(1.0f) == 0x3F80);
  CHECK(bf16_to_f32(0x3F80) == 1.0f);
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3F808000u)) == 0x3F80);  // tie -> even
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3F818000u)) == 0x3F82);
  CHECK((f32_to_bf16(NAN) & 0x40) != 0);
}

TEST_CASE("unsupported types are refused with a typed error") {
  CHECK_FALSE(is_supported(DType::IQ2_XXS));
  std::vector<std::byte> data(66);
  const TensorView w = view(DType::IQ2_XXS, 256, 1, data);
  std::vector<float> x(256), y(1);
  Workspace ws;
  CHECK_THROWS_AS(matmul(Isa::Scalar, w, x.data(), 1, y.data(), ws), inkling::Error);
}

TEST_CASE("f32 helpers match plain loops") {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int n : {1, 7, 16, 33, 100}) {
    std::vector<float> a(n), b(n), y1(n), y2(n);
    for (int i = 0; i < n; ++i) a[i] = normal(rng), b[i] = normal(rng), y1[i] = y2[i] = normal(rng);
    for (Isa isa : kAllIsas) {
      if (isa == Isa::Scalar || !isa_supported(isa)) continue;
      CHECK(dot_f32(isa, a.data(), b.data(), n) == doctest::Approx(ref::dot_f32(a.data(), b.data(), n)).epsilon(1e-5));
      y2 = y1;
      axpy_f32(isa, 0.5f, a.data(), y2.data(), n);
      for (int i = 0; i < n; ++i) CHECK(y2[i] == doctest::Approx(y1[i] + 0.5f * a[i]).epsilon(1e-6));
    }
  }
}

TEST_CASE("attention helpers (dot_rows_f32, weighted_sum_f32) match per-row loops") {
  // Odd key counts cover the 4-key groups' tails; lengths cover the 4-vector slices,
  // single vectors and scalar tails of both ISAs; the stride is wider than a row, as
  // in a KV cache with several heads.
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (std::int64_t len : {1, 7, 16, 64, 80, 100, 128}) {
    const std::int64_t stride = len + 13;
    for (int n : {1, 3, 4, 9, 37}) {
      std::vector<float> q(static_cast<std::size_t>(len)), kv(static_cast<std::size_t>(stride * n)), w(static_cast<std::size_t>(n));
      for (auto& x : q) x = normal(rng);
      for (auto& x : kv) x = normal(rng);
      for (auto& x : w) x = normal(rng);
      std::vector<float> want_s(static_cast<std::size_t>(n)), want_o(static_cast<std::size_t>(len), 0.0f);
      for (int j = 0; j < n; ++j) {
        want_s[static_cast<std::size_t>(j)] = ref::dot_f32(q.data(), kv.data() + j * stride, len);
        ref::axpy_f32(w[static_cast<std::size_t>(j)], kv.data() + j * stride, want_o.data(), len);
      }
      for (Isa isa : kAllIsas) {
        if (!isa_supported(isa)) continue;
        INFO(isa_name(isa) << " len=" << len << " n=" << n);
        std::vector<float> s(static_cast<std::size_t>(n), NAN), o(static_cast<std::size_t>(len), NAN);
        dot_rows_f32(isa, q.data(), kv.data(), stride, n, len, s.data());
        weighted_sum_f32(isa, w.data(), kv.data(), stride, n, len, o.data());
        for (int j = 0; j < n; ++j)
          CHECK(s[static_cast<std::size_t>(j)] == doctest::Approx(want_s[static_cast<std::size_t>(j)]).epsilon(1e-5).scale(std::sqrt(static_cast<double>(len))));
        for (std::int64_t i = 0; i < len; ++i)
          CHECK(o[static_cast<std::size_t>(i)] == doctest::Approx(want_o[static_cast<std::size_t>(i)]).epsilon(1e-5).scale(std::sqrt(static_cast<double>(n))));
      }
    }
  }
}

TEST_CASE("vectorised Q8_K activation quantization is byte-identical to the reference") {
  // Random blocks, plus blocks built to hit the edge cases: all zeros, a negative and a
  // positive element of equal largest magnitude (the first one sets the sign), and
  // values landing exactly halfway between codes (rounding ties to even).
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  constexpr int kBlocks = 6;
  std::vector<float> x(256 * kBlocks);
  for (auto& v : x) v = normal(rng);
  for (int j = 0; j < 256; ++j) x[256 + j] = 0.0f;
  x[512 + 40] = -9.0f, x[512 + 200] = 9.0f;
  x[768 + 3] = 9.0f, x[768 + 100] = -9.0f;
  for (int j = 0; j < 256; ++j) x[1024 + j] = static_cast<float>((j % 21) - 10) * 0.5f;  // ties at +-0.5, amax 5
  x[1024 + 7] = 127.0f / 2.0f;  // iscale * x = -63.5 for a dozen elements
  for (int j = 0; j < 256; ++j) x[1024 + j] = j % 2 ? 0.5f * 127.0f / 63.5f * static_cast<float>(j % 9) : x[1024 + j];
  const std::size_t bytes = sizeof(BlockQ8_K) * kBlocks;
  std::vector<std::byte> want(bytes), got(bytes);
  ref::quantize_q8_k(x.data(), want.data(), 256 * kBlocks);
  for (Isa isa : kAllIsas) {
    if (isa == Isa::Scalar || !isa_supported(isa)) continue;
    std::fill(got.begin(), got.end(), std::byte{0x5A});
    table_for(isa).for_type(DType::Q4_K)->quantize(x.data(), got.data(), 256 * kBlocks);
    INFO(isa_name(isa));
    for (int blk = 0; blk < kBlocks; ++blk) {
      INFO("block " << blk);
      CHECK(std::memcmp(want.data() + sizeof(BlockQ8_K) * blk, got.data() + sizeof(BlockQ8_K) * blk, sizeof(BlockQ8_K)) == 0);
    }
  }
}

TEST_CASE("Q4_0/Q4_1/Q5_0/Q5_1 repacked in rows of 8 match the plain reference on every row and token tail") {
  // Repacks with each table that offers it (the scalar one does not: there the plain
  // layout is kept), then runs matmul on the repacked view for 1..11 tokens and 1..19
  // rows (full groups of 8 plus every partial tail, which stays plain), with 1 and 2
  // threads, against the scalar table on the plain bytes and on the repacked bytes.
  // The ARM64 levels do not repack (their plain kernels, tested above, read the file's
  // layout): they are checked to refuse it and to still compute a tensor repacked by the
  // reference (a model repacked under one level and run under another).
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  int compared = 0;
  for (DType type : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1}) {
    CHECK(repack_layout(Isa::Scalar, type) == 0u);
    // Q8_1 keeps d * sum(a) in fp16, the repacked activations in f32: a little slack.
    const double slack = type == DType::Q4_1 || type == DType::Q5_1 ? 10.0 : 1.0;
    const RepackFn ref_repack = type == DType::Q4_0   ? ref::repack_rows8<BlockQ4_0>
                                : type == DType::Q4_1 ? ref::repack_rows8<BlockQ4_1>
                                : type == DType::Q5_0 ? ref::repack_rows8<BlockQ5_0>
                                                      : ref::repack_rows8<BlockQ5_1>;
    for (Isa isa : kAllIsas) {
      if (isa == Isa::Scalar || !isa_supported(isa)) continue;
      const bool arm = isa == Isa::Neon || isa == Isa::NeonDot || isa == Isa::NeonI8mm;
      REQUIRE(repack_layout(isa, type) == (arm ? 0u : kLayoutRows8));
      for (std::int64_t k : {32, 160, 2048})
        for (std::int64_t m = 1; m <= 19; ++m) {
          const auto plain = random_weights(type, k, m, rng);
          auto packed = plain;
          TensorView pv = view(type, k, m, packed);
          if (arm) ref_repack(packed.data(), k, m);
          else repack(isa, pv, packed.data());
          pv.layout = kLayoutRows8;
          if (m >= 8) CHECK(packed != plain);  // the bytes really moved
          for (int n : {1, 2, 3, 4, 5, 11}) {
            std::vector<float> x(static_cast<std::size_t>(k * n));
            for (auto& v : x) v = normal(rng);
            const auto want = run_matmul(Isa::Scalar, view(type, k, m, plain), x, n, 1);
            // The scalar table computes repacked tensors too (a model repacked under one
            // level and run under another).
            const auto ref_packed = run_matmul(Isa::Scalar, pv, x, n, 1);
            for (int threads : {1, 2}) {
              const auto got = run_matmul(isa, pv, x, n, threads);
              double worst = 0, worst_ref = 0, worst_same = 0;
              for (std::size_t i = 0; i < want.size(); ++i) {
                const double tol = 1e-4 * (std::abs(want[i]) + 1.0) * std::sqrt(static_cast<double>(k) / 32.0);
                worst = std::max(worst, std::abs(got[i] - want[i]) / (slack * tol));
                worst_ref = std::max(worst_ref, std::abs(ref_packed[i] - want[i]) / (slack * tol));
                worst_same = std::max(worst_same, std::abs(got[i] - ref_packed[i]) / tol);
              }
              INFO(dtype_name(type) << " " << isa_name(isa) << " k=" << k << " m=" << m << " n=" << n << " t=" << threads);
              CHECK(worst <= 1.0);
              CHECK(worst_ref <= 1.0);
              CHECK(worst_same <= 1.0);
              ++compared;
            }
          }
        }
    }
  }
  MESSAGE(compared << " repacked shapes compared with the plain reference");
}

TEST_CASE("a model repacks its Q4_0 matrices at load, mapped or read, and only where the kernels gain") {
  const auto path = inkling::test::require_shared("models/synth15M-q4_0.gguf");
  if (!path) return;
  const auto layout_of = [](const Model& m, std::string_view name) {
    for (const TensorView& t : m.file().tensors())
      if (t.name == name) return t.layout;
    FAIL("no tensor " << name);
    return 99u;
  };
  const std::uint32_t want = repack_layout(detect_isa(), DType::Q4_0);
  for (bool mmap : {true, false}) {
    INFO("use_mmap=" << mmap);
    const auto model = Model::load(*path, {.threads = 1, .use_mmap = mmap});
    CHECK(layout_of(*model, "blk.0.attn_q.weight") == want);
    CHECK(layout_of(*model, "blk.0.ffn_down.weight") == want);
    CHECK(layout_of(*model, "token_embd.weight") == 0u);  // rows read one by one
  }
  // Under the scalar level nothing is rewritten: the file's layout is the fastest there.
  set_env("INKLING_ISA", "scalar");
  const auto scalar = Model::load(*path, {.threads = 1});
  set_env("INKLING_ISA", nullptr);
  CHECK(layout_of(*scalar, "blk.0.attn_q.weight") == 0u);
}

TEST_CASE("the rows8 activations of every level equal the scalar reference bit for bit") {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  constexpr std::int64_t k = 32 * 7;
  std::vector<float> x(k);
  for (auto& v : x) v = normal(rng);
  x[3] = 0;
  std::fill(x.begin() + 64, x.begin() + 96, 0.0f);  // an all-zero block
  std::vector<BlockQ8_0x> want(k / 32), got(k / 32);
  ref::quantize_q8_0x(x.data(), want.data(), k);
  for (Isa isa : kAllIsas) {  // the ARM64 levels' are the reference's own
    if (!isa_supported(isa)) continue;
    const WeightKernels* wk = table_for(isa).for_tensor(DType::Q4_0, kLayoutRows8);
    REQUIRE(wk != nullptr);
    std::memset(got.data(), 0x5A, sizeof(BlockQ8_0x) * got.size());
    wk->quantize(x.data(), got.data(), k);
    INFO(isa_name(isa));
    CHECK(std::memcmp(want.data(), got.data(), sizeof(BlockQ8_0x) * want.size()) == 0);
  }
}

TEST_CASE("vectorised F16 activation conversion is bit-identical to the scalar reference") {
  // Normal values over the whole half range, and the edges: ties to even, the overflow
  // threshold to inf, subnormals and values below half the smallest one, signed zeros,
  // inf and NaN (quiet, payload kept). An odd length exercises the scalar tail.
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x;
  for (int i = 0; i < 3000; ++i) x.push_back(normal(rng) * std::ldexp(1.0f, static_cast<int>(rng() % 44) - 28));
  for (std::uint32_t bits : {0x3F801000u, 0x3F803000u, 0x477FEFFFu, 0x477FF000u, 0x477FE000u, 0x38800000u, 0x387FFFFFu,
                             0x33800000u, 0x33000000u, 0x33000001u, 0x32FFFFFFu, 0x34C00000u, 0x80000000u, 0x00000000u,
                             0x7F800000u, 0xFF800000u, 0x7FC00000u, 0x7F812345u, 0xFFE00001u, 0x80000001u, 0x35A00000u})
    x.push_back(std::bit_cast<float>(bits));
  std::vector<std::uint16_t> want(x.size()), got(x.size());
  ref::quantize_f16(x.data(), want.data(), static_cast<std::int64_t>(x.size()));
  for (Isa isa : kAllIsas) {
    if (!isa_supported(isa)) continue;
    std::fill(got.begin(), got.end(), std::uint16_t{0x5A5A});
    table_for(isa).for_type(DType::F16)->quantize(x.data(), got.data(), static_cast<std::int64_t>(x.size()));
    int wrong = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (got[i] != want[i] && wrong++ < 5)
        MESSAGE(isa_name(isa) << ": " << std::bit_cast<std::uint32_t>(x[i]) << " -> " << got[i] << ", want " << want[i]);
    CHECK(wrong == 0);
  }
}

TEST_CASE("matmul_group equals matmul on each product, for every type, level, layout and thread count") {
  // A group as a mixture-of-experts layer makes one: products of the same type and width
  // with 0, 1 (vec_dot) and several (gemm) tokens, row counts that are and are not whole
  // blocks, Q4_0 also repacked into rows8. Each product's output must be exactly what
  // matmul alone computes (same kernels, same row blocks), and matmul is itself tested
  // against the scalar reference above.
  std::mt19937 rng(77);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int tokens[] = {3, 0, 1, 9, 2};
  const std::int64_t rows[] = {70, 24, 17, 64, 8};
  for (DType type : {DType::F32, DType::F16, DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q6_K}) {
    const std::int64_t k = dtype_traits(type).block_elems == 256 ? 512 : 96;
    for (Isa isa : kAllIsas) {
      if (!isa_supported(isa)) continue;
      for (bool packed : {false, true}) {
        if (packed && repack_layout(isa, type) == 0) continue;
        std::vector<std::vector<std::byte>> data;
        std::vector<TensorView> views;
        std::vector<std::vector<float>> xs, want;
        for (int p = 0; p < 5; ++p) {
          data.push_back(random_weights(type, k, rows[p], rng));
          xs.emplace_back(static_cast<std::size_t>(k * std::max(tokens[p], 1)));
          for (auto& v : xs.back()) v = normal(rng);
        }
        for (int p = 0; p < 5; ++p) {
          views.push_back(view(type, k, rows[p], data[static_cast<std::size_t>(p)]));
          if (packed) {
            repack(isa, views.back(), data[static_cast<std::size_t>(p)].data());
            views.back().layout = repack_layout(isa, type);
          }
          want.push_back(run_matmul(isa, views.back(), xs[static_cast<std::size_t>(p)], tokens[p], 1));
        }
        for (int threads : {1, 2}) {
          std::vector<std::vector<float>> got;
          std::vector<GroupProduct> group;
          for (int p = 0; p < 5; ++p) {
            got.emplace_back(want[static_cast<std::size_t>(p)].size() + 1, -777.0f);  // one sentinel past the end
            group.push_back({&views[static_cast<std::size_t>(p)], xs[static_cast<std::size_t>(p)].data(), tokens[p],
                             got.back().data()});
          }
          Workspace ws;
          inkling::detail::ThreadTeam team;
          team.run(threads, [&](inkling::detail::TeamMember& m) { matmul_group(isa, group.data(), 5, ws, m); });
          for (int p = 0; p < 5; ++p) {
            INFO(dtype_name(type) << " " << isa_name(isa) << (packed ? " rows8" : "") << " threads=" << threads << " product " << p);
            const auto& g = got[static_cast<std::size_t>(p)];
            CHECK(std::equal(want[static_cast<std::size_t>(p)].begin(), want[static_cast<std::size_t>(p)].end(), g.begin()));
            CHECK(g.back() == -777.0f);
          }
        }
      }
    }
  }
  // Mixed types cannot share one group: a typed error, before any thread work.
  const auto a = random_weights(DType::F32, 32, 4, rng), b = random_weights(DType::F16, 32, 4, rng);
  const TensorView va = view(DType::F32, 32, 4, a), vb = view(DType::F16, 32, 4, b);
  std::vector<float> x(32), y(8);
  const GroupProduct mixed[] = {{&va, x.data(), 1, y.data()}, {&vb, x.data(), 1, y.data() + 4}};
  Workspace ws;
  inkling::detail::TeamMember alone;
  CHECK_THROWS_AS(matmul_group(detect_isa(), mixed, 2, ws, alone), Error);
}
