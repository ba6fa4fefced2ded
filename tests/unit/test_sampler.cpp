// Sampler steps on small hand-made logits, their composition, determinism, and a
// statistical test that draws follow the distribution.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/sampler.hpp"

using inkling::Sampler;
using inkling::SamplerConfig;
using inkling::SamplerStep;
using inkling::TokenId;

namespace {

SamplerConfig plain() {  // every filter off, temperature 1
  SamplerConfig c;
  c.temperature = 1.0f;
  c.top_k = 0;
  c.top_p = 1.0f;
  c.min_p = 0.0f;
  return c;
}

std::vector<float> softmax(const std::vector<float>& l) {
  double mx = -INFINITY, s = 0;
  for (float x : l) mx = std::max(mx, double(x));
  std::vector<float> p;
  for (float x : l) s += std::exp(x - mx);
  for (float x : l) p.push_back(static_cast<float>(std::exp(x - mx) / s));
  return p;
}

// The ids that survive the filters: the support of the final distribution.
std::vector<TokenId> kept(Sampler& s, const std::vector<float>& logits, const std::vector<TokenId>& hist = {}) {
  s.sample(logits, hist);
  std::vector<TokenId> ids;
  for (const auto& t : s.top(100)) ids.push_back(t.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string error_of(const SamplerConfig& c) {
  try {
    Sampler s(c);
  } catch (const inkling::Error& e) {
    CHECK(e.code() == inkling::ErrorCode::InvalidArgument);
    return e.what();
  }
  return "";
}

const std::vector<float> kLogits{1.0f, 3.0f, 2.0f, 0.0f, -1.0f, 2.5f};

}  // namespace

TEST_CASE("greedy takes the argmax, lowest id on ties, and reports its probability") {
  SamplerConfig c = plain();
  c.temperature = 0;
  Sampler s(c);
  CHECK(s.sample(kLogits, {}) == 1);
  CHECK(s.chosen().prob == doctest::Approx(softmax(kLogits)[1]));
  CHECK(s.sample(std::vector<float>{5, 1, 5}, {}) == 0);
  CHECK(Sampler::greedy(kLogits) == 1);
}

TEST_CASE("top-k keeps the k largest logits") {
  SamplerConfig c = plain();
  c.top_k = 3;
  Sampler s(c);
  CHECK(kept(s, kLogits) == std::vector<TokenId>{1, 2, 5});
  // renormalised over the kept ones
  const auto p = softmax({3.0f, 2.5f, 2.0f});
  CHECK(s.top(1)[0].prob == doctest::Approx(p[0]));
}

TEST_CASE("top-p keeps the smallest prefix reaching p") {
  const auto p = softmax(kLogits);  // sorted: 1 (3.0), 5 (2.5), 2 (2.0), 0, 3, 4
  SamplerConfig c = plain();
  c.top_p = p[1] + p[5] - 1e-4f;  // needs tokens 1 and 5
  Sampler s(c);
  CHECK(kept(s, kLogits) == std::vector<TokenId>{1, 5});
  c.top_p = p[1] + p[5] + 1e-4f;  // needs token 2 as well
  Sampler s2(c);
  CHECK(kept(s2, kLogits) == std::vector<TokenId>{1, 2, 5});
}

TEST_CASE("min-p drops tokens below p times the most likely one") {
  SamplerConfig c = plain();
  c.min_p = std::exp(-1.2f);  // keeps logits >= 3 - 1.2 = 1.8
  Sampler s(c);
  CHECK(kept(s, kLogits) == std::vector<TokenId>{1, 2, 5});
}

TEST_CASE("typical-p keeps the tokens closest to the entropy") {
  SamplerConfig c = plain();
  c.typical_p = 0.5f;
  Sampler s(c);
  const auto p = softmax(kLogits);
  double h = 0;
  for (float x : p) h -= x * std::log(x);
  // order by |-log p - H|, accumulate until > 0.5
  std::vector<int> order{0, 1, 2, 3, 4, 5};
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return std::abs(-std::log(p[a]) - h) < std::abs(-std::log(p[b]) - h);
  });
  std::vector<TokenId> expect;
  double cum = 0;
  for (int i : order) {
    expect.push_back(i);
    cum += p[i];
    if (cum > 0.5) break;
  }
  std::sort(expect.begin(), expect.end());
  CHECK(kept(s, kLogits) == expect);
}

TEST_CASE("temperature scales logits before the draw") {
  SamplerConfig c = plain();
  c.temperature = 0.5f;
  Sampler s(c);
  s.sample(kLogits, {});
  std::vector<float> scaled;
  for (float l : kLogits) scaled.push_back(l / 0.5f);
  CHECK(s.top(1)[0].prob == doctest::Approx(softmax(scaled)[1]));
  CHECK(s.raw_top(1)[0].prob == doctest::Approx(softmax(kLogits)[1]));  // raw is untouched
}

TEST_CASE("penalties: repetition divides positive and multiplies negative logits; presence and frequency subtract") {
  SamplerConfig c = plain();
  c.temperature = 0;
  c.repeat_penalty = 2.0f;
  c.presence_penalty = 0.25f;
  c.frequency_penalty = 0.5f;
  Sampler s(c);
  // token 1 seen twice: 3/2 - 2*0.5 - 0.25 = 0.25; token 4 seen once: -1*2 - 0.5 - 0.25 = -2.75
  s.sample(kLogits, std::vector<TokenId>{1, 4, 1});
  std::vector<float> expect = kLogits;
  expect[1] = 0.25f;
  expect[4] = -2.75f;
  const auto p = softmax(expect);
  CHECK(s.chosen().id == 5);
  CHECK(s.chosen().prob == doctest::Approx(p[5]));
  // outside the window: no penalty
  c.penalty_window = 1;
  Sampler w(c);
  CHECK(w.sample(kLogits, std::vector<TokenId>{1, 4}) == 1);
  // ids outside the vocabulary in the history are ignored
  CHECK_NOTHROW(w.sample(kLogits, std::vector<TokenId>{-3, 999}));
}

TEST_CASE("logit bias adds to logits and -inf bans a token") {
  SamplerConfig c = plain();
  c.temperature = 0;
  c.logit_bias = {{1, -INFINITY}, {3, 10.0f}};
  Sampler s(c);
  CHECK(s.sample(kLogits, {}) == 3);
  c.logit_bias = {{1, -INFINITY}};
  Sampler s2(c);
  CHECK(s2.sample(kLogits, {}) == 5);
  for (const auto& t : s2.top(10)) CHECK(t.id != 1);
}

TEST_CASE("the composed default chain: bias, penalties, top-k, top-p, min-p, temperature") {
  SamplerConfig c;
  c.top_k = 4;        // keeps 1, 5, 2, 0
  c.top_p = 0.99f;    // keeps all four
  c.min_p = 0.3f;     // drops token 0 (e^-2 < 0.3)
  c.temperature = 2.0f;
  c.logit_bias = {{3, 100.0f}};  // token 3 jumps to the top
  Sampler s(c);
  CHECK(kept(s, kLogits) == std::vector<TokenId>{3});
  c.logit_bias.clear();
  Sampler s2(c);
  CHECK(kept(s2, kLogits) == std::vector<TokenId>{1, 2, 5});
  std::vector<float> t{3.0f / 2, 2.0f / 2, 2.5f / 2};
  CHECK(s2.top(1)[0].prob == doctest::Approx(softmax(t)[0]));
  CHECK(s2.entropy() > 0);
  CHECK(s2.raw_entropy() > s2.entropy());
}

TEST_CASE("the same seed gives the same tokens; another seed differs") {
  std::vector<float> logits(1000);
  for (int i = 0; i < 1000; ++i) logits[static_cast<std::size_t>(i)] = std::sin(i * 0.1f) * 3;
  auto draw = [&](std::uint64_t seed) {
    SamplerConfig c = plain();
    c.seed = seed;
    Sampler s(c);
    std::vector<TokenId> out;
    for (int i = 0; i < 50; ++i) out.push_back(s.sample(logits, out));
    return out;
  };
  CHECK(draw(42) == draw(42));
  CHECK(draw(42) != draw(43));
  // Pinned sequence: the generator and the draw are our own, so these are the same on
  // every platform and standard library.
  SamplerConfig c = plain();
  c.seed = 7;
  Sampler s(c);
  const auto state = s.rng_state();
  const TokenId first = s.sample(logits, {});
  s.set_rng_state(state);
  CHECK(s.sample(logits, {}) == first);
}

TEST_CASE("draws follow the distribution (chi-square, p < 1e-6 bound)") {
  const std::vector<float> logits{0.0f, 1.0f, -0.5f, 2.0f, 0.3f, -2.0f};
  const auto p = softmax(logits);
  SamplerConfig c = plain();
  c.seed = 2024;
  Sampler s(c);
  const int n = 200000;
  std::vector<int> counts(6);
  for (int i = 0; i < n; ++i) ++counts[static_cast<std::size_t>(s.sample(logits, {}))];
  double chi2 = 0;
  for (int i = 0; i < 6; ++i) {
    const double e = n * p[static_cast<std::size_t>(i)];
    chi2 += (counts[static_cast<std::size_t>(i)] - e) * (counts[static_cast<std::size_t>(i)] - e) / e;
  }
  // 5 degrees of freedom: P(chi2 > 35.9) = 1e-6. A wrong distribution (e.g. off by 1%
  // on one token) gives chi2 in the hundreds at this n.
  CHECK(chi2 < 35.9);
  MESSAGE("chi-square " << chi2 << " over " << n << " draws");
}

TEST_CASE("out-of-range parameters name the parameter") {
  auto with = [](auto edit) {
    SamplerConfig c;
    edit(c);
    return error_of(c);
  };
  CHECK(with([](SamplerConfig& c) { c.temperature = -1; }).find("temperature") != std::string::npos);
  CHECK(with([](SamplerConfig& c) { c.temperature = NAN; }).find("temperature") != std::string::npos);
  CHECK(with([](SamplerConfig& c) { c.top_p = 1.5f; }).find("top_p") != std::string::npos);
  CHECK(with([](SamplerConfig& c) { c.top_p = 0; }).find("top_p") != std::string::npos);
  CHECK(with([](SamplerConfig& c) { c.top_k = -1; }).find("top_k") != std::string::npos);
  CHECK(with([](SamplerConfig& c) { c.min_p = 2; }).find("min_p") != std::string::npos);
  CHECK(with([](SamplerConfig& c) { c.typical_p = 0; }).find("typical_p") != std::string::npos);
  CHECK(with([](SamplerConfig& c) { c.repeat_penalty = 0; }).find("repeat_penalty") != std::string::npos);
  CHECK(with([](SamplerConfig& c) { c.presence_penalty = INFINITY; }).find("presence_penalty") != std::string::npos);
  CHECK(with([](SamplerConfig& c) { c.frequency_penalty = NAN; }).find("frequency_penalty") != std::string::npos);
  CHECK(with([](SamplerConfig& c) { c.penalty_window = -2; }).find("penalty_window") != std::string::npos);
  CHECK(with([](SamplerConfig& c) { c.logit_bias = {{1, NAN}}; }).find("logit_bias") != std::string::npos);
  CHECK(with([](SamplerConfig& c) { c.min_keep = 0; }).find("min_keep") != std::string::npos);
}

TEST_CASE("bad logits give an error naming the token") {
  Sampler s(plain());
  std::vector<float> l{0, 1, NAN};
  try {
    s.sample(l, {});
    FAIL("expected an error");
  } catch (const inkling::Error& e) {
    CHECK(std::string(e.what()).find("token 2") != std::string::npos);
  }
  CHECK_THROWS_AS(s.sample(std::vector<float>{}, {}), inkling::Error);
  CHECK_THROWS_AS(s.sample(std::vector<float>{-INFINITY, -INFINITY}, {}), inkling::Error);
  SamplerConfig c = plain();
  c.logit_bias = {{0, -INFINITY}, {1, -INFINITY}};
  Sampler banned(c);
  CHECK_THROWS_AS(banned.sample(std::vector<float>{1, 2}, {}), inkling::Error);
}
