// The klanes layout of Q4_K and Q6_K (kernels/formats/klanes.hpp): repacking is exact
// (it round-trips), and every level's kernels for it equal the plain scalar reference on
// every row count and token tail.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "inkling/tensor.hpp"
#include "kernels/formats/all.hpp"
#include "kernels/fp16.hpp"
#include "kernels/kernel_table.hpp"
#include "kernels/kernels.hpp"
#include "kernel_test_data.hpp"

using namespace inkling;
using namespace inkling::kernels;

namespace {

const auto random_k_weights = test::random_weights;
const auto view_of = test::weight_view;
const auto run = test::run_matmul;

template <typename Block>
void check_round_trip(DType type, std::mt19937& rng) {
  const auto plain = random_k_weights(type, 512, 3, rng);
  auto packed = plain;
  ref::repack_klanes<Block>(packed.data(), 512, 3);
  CHECK(packed != plain);
  for (std::size_t i = 0; i < plain.size() / sizeof(Block); ++i) {
    Block p, back;
    std::memcpy(&p, packed.data() + sizeof(Block) * i, sizeof p);
    ref::klanes_convert(p, back, false);
    CHECK(std::memcmp(&back, plain.data() + sizeof(Block) * i, sizeof back) == 0);
  }
}

}  // namespace

TEST_CASE("klanes repacking of Q4_K and Q6_K round-trips bit for bit") {
  std::mt19937 rng(7);
  check_round_trip<BlockQ4_K>(DType::Q4_K, rng);
  check_round_trip<BlockQ6_K>(DType::Q6_K, rng);
  // Element 16l + 4c + e sits at 64c + 4l + e: position 4 holds element 16, 64 holds 4.
  CHECK(ref::klanes_element(4) == 16);
  CHECK(ref::klanes_element(64) == 4);
  CHECK(ref::klanes_element(255) == 255);
}

TEST_CASE("Q4_K/Q6_K repacked in klanes match the plain reference on every row and token tail") {
  // Repacks with each level that offers it (AVX-512 VNNI; the others keep the file's
  // layout and are checked to still compute a tensor the reference repacked: a model
  // repacked under one level and run under another), then runs matmul on the repacked
  // view for 1..19 rows and 1..17 tokens (every tail of the 8-token tile), 1 and 2
  // threads, against the scalar table on the plain bytes and on the repacked bytes.
  std::mt19937 rng(4321);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  int compared = 0;
  for (DType type : {DType::Q4_K, DType::Q6_K}) {
    CHECK(repack_layout(Isa::Scalar, type) == 0u);
    const RepackFn ref_repack = type == DType::Q4_K ? ref::repack_klanes<BlockQ4_K> : ref::repack_klanes<BlockQ6_K>;
    for (Isa isa : kAllIsas) {
      if (!isa_supported(isa)) continue;
      const std::uint32_t layout = repack_layout(isa, type);
      CHECK((layout == 0u || layout == kLayoutKLanes));
      for (std::int64_t k : {256, 768})
        for (std::int64_t m : {1, 2, 7, 19}) {
          const auto plain = random_k_weights(type, k, m, rng);
          auto packed = plain;
          TensorView pv = view_of(type, k, m, packed);
          if (layout) {
            repack(isa, pv, packed.data());
            auto want_bytes = plain;  // a level's own repack writes the reference's bytes
            ref_repack(want_bytes.data(), k, m);
            CHECK(packed == want_bytes);
          } else {
            ref_repack(packed.data(), k, m);
          }
          pv.layout = kLayoutKLanes;
          CHECK(packed != plain);  // the bytes really moved
          for (int n : {1, 2, 7, 8, 9, 17}) {
            std::vector<float> x(static_cast<std::size_t>(k * n));
            for (auto& v : x) v = normal(rng);
            if (n > 2) x[5] = -40.0f;  // a spike: the extreme int8 codes
            const auto want = run(Isa::Scalar, view_of(type, k, m, plain), x, n, 1);
            const auto ref_packed = run(Isa::Scalar, pv, x, n, 1);
            for (int threads : {1, 2}) {
              const auto got = run(isa, pv, x, n, threads);
              double worst = 0, worst_ref = 0;
              for (std::size_t i = 0; i < want.size(); ++i) {
                const double tol = 1e-4 * (std::abs(want[i]) + 1.0) * std::sqrt(static_cast<double>(k) / 32.0);
                worst = std::max(worst, std::abs(got[i] - want[i]) / tol);
                worst_ref = std::max(worst_ref, std::abs(ref_packed[i] - want[i]) / tol);
              }
              INFO(dtype_name(type) << " " << isa_name(isa) << " k=" << k << " m=" << m << " n=" << n << " t=" << threads);
              CHECK(worst <= 1.0);
              CHECK(worst_ref <= 1.0);
              ++compared;
            }
          }
        }
    }
  }
  MESSAGE(compared << " klanes shapes compared with the plain reference");
}

TEST_CASE("the klanes activations of every level equal the scalar reference bit for bit") {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  constexpr std::int64_t k = 256 * 3;
  std::vector<float> x(k);
  for (auto& v : x) v = normal(rng);
  std::fill(x.begin() + 256, x.begin() + 512, 0.0f);  // an all-zero block
  std::vector<BlockQ8_KL> want(k / 256), got(k / 256);
  ref::quantize_q8_kl(x.data(), want.data(), k);
  for (Isa isa : kAllIsas) {
    if (!isa_supported(isa)) continue;
    const WeightKernels* wk = table_for(isa).for_tensor(DType::Q4_K, kLayoutKLanes);
    REQUIRE(wk != nullptr);
    std::memset(got.data(), 0x5A, sizeof(BlockQ8_KL) * got.size());
    wk->quantize(x.data(), got.data(), k);
    INFO(isa_name(isa));
    CHECK(std::memcmp(want.data(), got.data(), sizeof(BlockQ8_KL) * want.size()) == 0);
  }
}
