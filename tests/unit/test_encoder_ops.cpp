// The encoder row kernels (kernels/encoder_ops.hpp) of every level against the scalar
// reference, on every vector tail, with and without their optional operands.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/encoder_ops.hpp"
#include "kernels/fp16.hpp"
#include "model/gelu_table.hpp"
#include "model/layers.hpp"

using namespace inkling;
using namespace inkling::kernels;

namespace {

std::vector<float> normal_values(std::size_t n, float mean, float sigma, std::mt19937& rng) {
  std::normal_distribution<float> d(mean, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

}  // namespace

TEST_CASE("add_norm equals the reference LayerNorm of the sum on every level, length and operand set") {
  std::mt19937 rng(5);
  int compared = 0;
  for (Isa isa : kAllIsas) {
    if (!isa_supported(isa)) continue;
    for (std::int64_t n : {1, 3, 8, 15, 16, 17, 33, 64, 100, 384, 1000})
      for (int variant = 0; variant < 8; ++variant) {
        const bool has_o = variant & 1, has_bias = variant & 2, has_norm_bias = variant & 4;
        const auto un = static_cast<std::size_t>(n);
        // An offset mean, as residual streams have: the variance must be of the centred values.
        const auto x0 = normal_values(un, 3.0f, 2.0f, rng);
        const auto o = normal_values(un, 0.0f, 1.0f, rng), bias = normal_values(un, 0.0f, 0.3f, rng);
        const auto weight = normal_values(un, 1.0f, 0.2f, rng), norm_bias = normal_values(un, 0.0f, 0.2f, rng);
        auto want = x0, got = x0;
        ref::add_norm(want.data(), has_o ? o.data() : nullptr, has_bias ? bias.data() : nullptr, weight.data(),
                      has_norm_bias ? norm_bias.data() : nullptr, 1e-12f, n);
        add_norm(isa, got.data(), has_o ? o.data() : nullptr, has_bias ? bias.data() : nullptr, weight.data(),
                 has_norm_bias ? norm_bias.data() : nullptr, 1e-12f, n);
        double worst = 0;
        for (std::size_t i = 0; i < un; ++i) worst = std::max(worst, std::abs(static_cast<double>(got[i]) - want[i]));
        INFO(isa_name(isa) << " n=" << n << " o=" << has_o << " bias=" << has_bias << " norm_bias=" << has_norm_bias);
        CHECK(worst < 2e-5);
        ++compared;
      }
  }
  MESSAGE(compared << " shapes compared");
}

TEST_CASE("add_norm's reference is detail::layer_norm of the sum") {
  std::mt19937 rng(6);
  const std::size_t n = 77;
  const auto x0 = normal_values(n, 1.0f, 2.0f, rng), o = normal_values(n, 0.0f, 1.0f, rng);
  const auto weight = normal_values(n, 1.0f, 0.2f, rng), norm_bias = normal_values(n, 0.0f, 0.2f, rng);
  auto got = x0;
  ref::add_norm(got.data(), o.data(), nullptr, weight.data(), norm_bias.data(), 1e-5f, static_cast<std::int64_t>(n));
  std::vector<float> sum(n), want(n);
  for (std::size_t i = 0; i < n; ++i) sum[i] = o[i] + x0[i];
  detail::layer_norm(sum.data(), weight.data(), norm_bias.data(), 1e-5f, want.data(), static_cast<std::int64_t>(n));
  for (std::size_t i = 0; i < n; ++i) CHECK(got[i] == want[i]);
}

TEST_CASE("bias_gelu looks up the same table entries as the reference, bit for bit, on every level") {
  // A table of distinct values, so that a wrong index cannot go unnoticed.
  std::vector<float> table(1 << 16);
  for (std::size_t h = 0; h < table.size(); ++h) table[h] = static_cast<float>(h) * 0.5f - 7.0f;
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> wide(-13.0f, 13.0f);
  int compared = 0;
  for (Isa isa : kAllIsas) {
    if (!isa_supported(isa)) continue;
    for (std::int64_t n : {1, 7, 8, 9, 15, 16, 17, 31, 33, 128, 1536})
      for (bool has_bias : {false, true}) {
        const auto un = static_cast<std::size_t>(n);
        std::vector<float> x(un), bias(un);
        for (std::size_t i = 0; i < un; ++i) x[i] = wide(rng), bias[i] = wide(rng) * 0.1f;
        // The ends and their neighbours, a tie between two fp16 values, NaN and infinities.
        const float edges[] = {-10.0f, 10.0f, std::nextafter(-10.0f, 0.0f), std::nextafter(10.0f, 0.0f), 0.0f, -0.0f,
                               1.0f + 1.0f / 2048.0f, NAN, INFINITY, -INFINITY};
        for (std::size_t i = 0; i < std::size(edges) && i < un; ++i) x[(i * 7) % un] = edges[i];
        auto want = x, got = x;
        ref::bias_gelu(want.data(), has_bias ? bias.data() : nullptr, table.data(), n);
        bias_gelu(isa, got.data(), has_bias ? bias.data() : nullptr, table.data(), n);
        int differ = 0;
        for (std::size_t i = 0; i < un; ++i)
          differ += std::bit_cast<std::uint32_t>(got[i]) != std::bit_cast<std::uint32_t>(want[i]) &&
                    !(std::isnan(got[i]) && std::isnan(want[i]));
        INFO(isa_name(isa) << " n=" << n << " bias=" << has_bias);
        CHECK(differ == 0);
        ++compared;
      }
  }
  MESSAGE(compared << " shapes compared");
}

TEST_CASE("bias_gelu with the GELU table is detail::gelu") {
  const detail::GeluTable& gelu = detail::gelu_table();
  std::vector<float> x;
  for (int i = -1300; i <= 1300; ++i) x.push_back(static_cast<float>(i) * 0.01f);
  auto got = x;
  for (Isa isa : kAllIsas) {
    if (!isa_supported(isa)) continue;
    got = x;
    bias_gelu(isa, got.data(), nullptr, gelu.data(), static_cast<std::int64_t>(got.size()));
    for (std::size_t i = 0; i < x.size(); ++i) {
      INFO(isa_name(isa) << " x=" << x[i]);
      CHECK(got[i] == detail::gelu(x[i]));
    }
  }
}
