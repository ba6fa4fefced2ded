// The encoder's per-(sequence, head) attention against the decoders' per-query attend(),
// the plain reference it replaces in encoder passes, on every instruction-set level.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/kernels.hpp"
#include "model/encoder_attention.hpp"
#include "model/layers.hpp"

using namespace inkling;

TEST_CASE("encoder_attend_head equals attend() for every query, length, head size and level") {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.5f);
  int compared = 0;
  for (kernels::Isa isa : kernels::kAllIsas) {
    if (!kernels::isa_supported(isa)) continue;
    for (int head_dim : {16, 32, 64, 40, 12})
      for (int len : {1, 2, 7, 16, 31, 32, 33, 65, 128}) {
        // Q rows of 3 heads; K and V interleaved in rows of 2 heads (strides as in a pass).
        const std::int64_t q_stride = 3 * head_dim, kv_stride = 2 * head_dim, out_stride = 5 * head_dim;
        std::vector<float> q(static_cast<std::size_t>(len * q_stride)), kv(static_cast<std::size_t>(len * kv_stride));
        for (auto& x : q) x = normal(rng);
        for (auto& x : kv) x = normal(rng);
        const float* k = kv.data();
        const float* v = kv.data() + head_dim;
        const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
        // Scratch filled with NaN: the kernel must write everything it reads there.
        std::vector<float> scratch(detail::encoder_attention_scratch(len, head_dim), std::nanf(""));
        std::vector<float> scores(static_cast<std::size_t>(len));
        std::vector<float> got(static_cast<std::size_t>(len * out_stride), -777.0f);
        detail::encoder_attend_head(isa, q.data(), q_stride, k, v, kv_stride, len, head_dim, scale, scratch.data(),
                                    got.data(), out_stride);
        double worst = 0;
        int clobbered = 0;
        std::vector<float> want(static_cast<std::size_t>(head_dim));
        for (int i = 0; i < len; ++i) {
          detail::attend(kernels::Isa::Scalar, q.data() + i * q_stride, k, v, kv_stride, len, head_dim, scale, 0.0f,
                         scores.data(), want.data());
          for (std::int64_t e = 0; e < out_stride; ++e) {
            const float g = got[static_cast<std::size_t>(i * out_stride + e)];
            if (e >= head_dim) {
              clobbered += g != -777.0f;
              continue;
            }
            worst = std::max(worst, std::abs(static_cast<double>(g) - want[static_cast<std::size_t>(e)]));
          }
        }
        INFO(kernels::isa_name(isa) << " head_dim=" << head_dim << " len=" << len);
        CHECK(worst < 2e-5);
        CHECK(clobbered == 0);
        ++compared;
      }
  }
  MESSAGE(compared << " shapes compared");
}
