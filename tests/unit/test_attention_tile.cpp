// The blocked-attention tile kernels of every instruction-set level against the plain
// reference (kernels/formats/attention.hpp), on tails: key counts that are not a
// multiple of the pair / tile, one key, row strides of 8 and 16+8 lanes, head sizes that
// leave single vectors and scalar tails, masked (-inf) keys and fully masked rows.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/attention_tile.hpp"
#include "kernels/formats/all.hpp"
#include "kernels/formats/attention.hpp"
#include "kernels/fp16.hpp"

using namespace inkling;
using namespace inkling::kernels;

namespace {

std::vector<float> normal_vec(std::size_t n, std::mt19937& rng, float sd = 1.0f) {
  std::normal_distribution<float> normal(0.0f, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, double eps) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (eps == 0.0 || std::isinf(want[i])) {
      CHECK(got[i] == want[i]);
      continue;
    }
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(eps).scale(1.0));
  }
}

}  // namespace

TEST_CASE("attention tile scores match the reference on every key, row and head tail") {
  std::mt19937 rng(11);
  for (int hd : {1, 7, 32, 64, 80, 128})
    for (int rs : {8, 16, 24, 40, 64, 72})
      for (int nk : {1, 2, 3, 9, 63, 64}) {
        const int ks = hd + 5;  // rows of a wider cache row, as an F32 cache is read in place
        const auto k = normal_vec(static_cast<std::size_t>(nk) * ks, rng);
        const auto qt = normal_vec(static_cast<std::size_t>(hd) * rs, rng);
        std::vector<float> want(static_cast<std::size_t>(nk) * rs);
        ref::attn_scores(k.data(), ks, nk, hd, qt.data(), rs, 0.125f, want.data());
        for (Isa isa : kAllIsas) {
          if (!isa_supported(isa)) continue;
          INFO(isa_name(isa) << " hd=" << hd << " rs=" << rs << " nk=" << nk);
          std::vector<float> got(want.size(), NAN);
          attn_scores(isa, k.data(), ks, nk, hd, qt.data(), rs, 0.125f, got.data());
          check_close(got, want, 1e-4);
        }
      }
}

TEST_CASE("attention tile online softmax matches the reference, masked keys and empty rows included") {
  std::mt19937 rng(12);
  std::uniform_int_distribution<int> coin(0, 3);
  for (int rs : {8, 16, 24, 40})
    for (int nk : {1, 5, 64}) {
      auto st = normal_vec(static_cast<std::size_t>(nk) * rs, rng, 4.0f);
      // Some masked keys; lane 1 fully masked in this tile; lane 2 far below the others
      // (weights that underflow to 0).
      for (std::size_t i = 0; i < st.size(); ++i)
        if (coin(rng) == 0) st[i] = -INFINITY;
      for (int j = 0; j < nk; ++j) st[static_cast<std::size_t>(j) * rs + 1] = -INFINITY, st[static_cast<std::size_t>(j) * rs + 2] -= 200.0f;
      // Running state as after earlier tiles: lane 0 had none (-inf, 0), others some.
      auto m = normal_vec(static_cast<std::size_t>(rs), rng);
      std::vector<float> l(static_cast<std::size_t>(rs), 3.0f);
      m[0] = -INFINITY, l[0] = 0.0f;
      std::vector<float> want_st = st, want_m = m, want_l = l, want_a(static_cast<std::size_t>(rs));
      ref::attn_softmax(want_st.data(), nk, rs, want_m.data(), want_l.data(), want_a.data());
      for (Isa isa : kAllIsas) {
        if (!isa_supported(isa)) continue;
        INFO(isa_name(isa) << " rs=" << rs << " nk=" << nk);
        std::vector<float> got_st = st, got_m = m, got_l = l, got_a(static_cast<std::size_t>(rs), NAN);
        attn_softmax(isa, got_st.data(), nk, rs, got_m.data(), got_l.data(), got_a.data());
        check_close(got_st, want_st, 1e-5);
        check_close(got_m, want_m, 0.0);
        check_close(got_l, want_l, 1e-5);
        check_close(got_a, want_a, 1e-5);
        CHECK(got_st[1] == 0.0f);  // a fully masked lane weighs nothing, is no NaN
        CHECK(got_a[0] == 0.0f);   // the empty running state is dropped
      }
    }
}

TEST_CASE("attention tile accumulation matches the reference on row and head tails") {
  std::mt19937 rng(13);
  for (int hd : {1, 7, 8, 24, 64, 80, 100, 128})
    for (int rows : {1, 2, 3, 8, 9})
      for (int nk : {1, 3, 64}) {
        const int rs = (rows + 7) / 8 * 8;
        const auto p = normal_vec(static_cast<std::size_t>(nk) * rs, rng);
        const int vs = hd + 3;
        const auto v = normal_vec(static_cast<std::size_t>(nk) * vs, rng);
        const auto alpha = normal_vec(static_cast<std::size_t>(rs), rng);
        const auto o0 = normal_vec(static_cast<std::size_t>(rows) * hd, rng);
        std::vector<float> want = o0;
        ref::attn_accumulate(p.data(), nk, rs, rows, v.data(), vs, hd, alpha.data(), want.data());
        for (Isa isa : kAllIsas) {
          if (!isa_supported(isa)) continue;
          INFO(isa_name(isa) << " hd=" << hd << " rows=" << rows << " nk=" << nk);
          std::vector<float> got = o0;
          attn_accumulate(isa, p.data(), nk, rs, rows, v.data(), vs, hd, alpha.data(), got.data());
          check_close(got, want, 1e-4);
        }
      }
}

TEST_CASE("cache rows convert to f32 exactly (F16 and Q8_0) on every level") {
  // Three rows of a wider cache row (the stride skips other heads); an odd fp16 length
  // covers the scalar tail.
  std::mt19937 rng(14);
  const int rows = 3;
  for (int n : {31, 32, 64, 96}) {
    const auto x = normal_vec(static_cast<std::size_t>(rows) * 128, rng);
    const std::size_t h_stride = 128 * 2, q_stride = 4 * 34;
    std::vector<std::byte> h(rows * h_stride), q8(rows * q_stride);
    for (int r = 0; r < rows; ++r) {
      auto* hr = reinterpret_cast<std::uint16_t*>(h.data() + r * h_stride);
      for (int i = 0; i < 128; ++i) hr[i] = f32_to_fp16(x[static_cast<std::size_t>(r * 128 + i)]);
      ref::quantize_q8_0(x.data() + r * 128, q8.data() + r * q_stride, 128);
    }
    const int nq = n / 32 * 32;
    std::vector<float> want_h(static_cast<std::size_t>(rows * n)), want_q(static_cast<std::size_t>(rows * nq));
    ref::f16_rows_to_f32(h.data(), h_stride, rows, n, want_h.data());
    ref::q8_0_rows_to_f32(q8.data(), q_stride, rows, nq, want_q.data());
    CHECK(want_h[static_cast<std::size_t>(n)] == fp16_to_f32(f32_to_fp16(x[128])));  // row 1 starts at the stride
    for (Isa isa : kAllIsas) {
      if (!isa_supported(isa)) continue;
      INFO(isa_name(isa) << " n=" << n);
      std::vector<float> got_h(want_h.size(), NAN), got_q(want_q.size(), NAN);
      f16_rows_to_f32(isa, h.data(), h_stride, rows, n, got_h.data());
      q8_0_rows_to_f32(isa, q8.data(), q_stride, rows, nq, got_q.data());
      check_close(got_h, want_h, 0.0);
      check_close(got_q, want_q, 0.0);
    }
  }
}

TEST_CASE("tiles chained with an online softmax equal one softmax over all keys") {
  // The reference kernels themselves: three uneven tiles, normalised at the end, against a
  // plain softmax-weighted sum.
  std::mt19937 rng(15);
  const int hd = 16, rs = 8, nk = 150, tiles[] = {64, 64, 22};
  const auto q = normal_vec(static_cast<std::size_t>(hd), rng);
  const auto k = normal_vec(static_cast<std::size_t>(nk) * hd, rng);
  const auto v = normal_vec(static_cast<std::size_t>(nk) * hd, rng);
  std::vector<float> qt(static_cast<std::size_t>(hd) * rs, 0.0f);
  for (int i = 0; i < hd; ++i) qt[static_cast<std::size_t>(i) * rs] = q[static_cast<std::size_t>(i)];
  std::vector<float> m(rs, -INFINITY), l(rs, 0.0f), a(rs), o(static_cast<std::size_t>(hd), 0.0f), st(64 * rs);
  int k0 = 0;
  for (int n : tiles) {
    ref::attn_scores(k.data() + k0 * hd, hd, n, hd, qt.data(), rs, 0.25f, st.data());
    ref::attn_softmax(st.data(), n, rs, m.data(), l.data(), a.data());
    ref::attn_accumulate(st.data(), n, rs, 1, v.data() + k0 * hd, hd, hd, a.data(), o.data());
    k0 += n;
  }
  std::vector<double> s(static_cast<std::size_t>(nk));
  double mx = -1e30, sum = 0;
  for (int j = 0; j < nk; ++j) {
    double d = 0;
    for (int i = 0; i < hd; ++i) d += static_cast<double>(q[static_cast<std::size_t>(i)]) * k[static_cast<std::size_t>(j * hd + i)];
    s[static_cast<std::size_t>(j)] = 0.25 * d;
    mx = std::max(mx, s[static_cast<std::size_t>(j)]);
  }
  for (auto& x : s) sum += (x = std::exp(x - mx));
  for (int i = 0; i < hd; ++i) {
    double want = 0;
    for (int j = 0; j < nk; ++j) want += s[static_cast<std::size_t>(j)] / sum * v[static_cast<std::size_t>(j * hd + i)];
    CHECK(o[static_cast<std::size_t>(i)] / l[0] == doctest::Approx(want).epsilon(1e-5));
  }
}
