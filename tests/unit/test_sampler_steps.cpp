// The adaptive sampler steps against their definitions (llama.cpp's): top-n-sigma, XTC,
// DRY, mirostat v1 and v2; and a user-set order parsed from llama.cpp's spelling.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/sampler.hpp"

using namespace inkling;

namespace {

SamplerConfig plain() {  // every filter off, temperature 1
  SamplerConfig c;
  c.temperature = 1.0f;
  c.top_k = 0;
  c.top_p = 1.0f;
  c.min_p = 0.0f;
  return c;
}

std::vector<TokenId> kept(Sampler& s, const std::vector<float>& logits) {
  s.sample(logits, {});
  std::vector<TokenId> ids;
  for (const auto& t : s.top(100)) ids.push_back(t.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<float> logits_of(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

// DRY's change to all-zero logits after `history`.
std::vector<float> dry_penalties(const SamplerConfig& c, const std::vector<TokenId>& history, int vocab = 10) {
  Sampler s(c);
  std::vector<float> l(static_cast<std::size_t>(vocab), 0.0f);
  s.adjust_logits(l, history);
  return l;
}

}  // namespace

TEST_CASE("top-n-sigma keeps the logits within n standard deviations of the best") {
  const std::vector<float> l{0, 1, 2, 3, 10};
  const double mean = 16.0 / 5;
  double var = 0;
  for (float x : l) var += (x - mean) * (x - mean);
  const double sd = std::sqrt(var / 5);  // 3.544
  for (float n : {1.0f, 2.0f, 3.0f}) {
    CAPTURE(n);
    auto c = plain();
    c.top_n_sigma = n;
    Sampler s(c);
    std::vector<TokenId> expected;
    for (int i = 0; i < 5; ++i)
      if (l[static_cast<std::size_t>(i)] >= 10 - n * sd) expected.push_back(i);
    CHECK(kept(s, l) == expected);
  }
  auto off = plain();
  off.top_n_sigma = -1;
  Sampler s(off);
  CHECK(kept(s, l).size() == 5);
}

TEST_CASE("XTC removes all but the least likely of the top choices above the threshold") {
  const auto l = logits_of({0.4, 0.3, 0.2, 0.06, 0.04});
  auto c = plain();
  c.xtc_probability = 1.0f;
  c.xtc_threshold = 0.1f;
  Sampler s(c);
  CHECK(kept(s, l) == std::vector<TokenId>{2, 3, 4});
  c.xtc_threshold = 0.35f;  // only one token above: nothing to exclude
  Sampler one(c);
  CHECK(kept(one, l).size() == 5);
  c.xtc_threshold = 0.6f;  // > 0.5: off
  Sampler high(c);
  CHECK(kept(high, l).size() == 5);
  c.xtc_threshold = 0.1f;
  c.xtc_probability = 0.0f;
  Sampler never(c);
  CHECK(kept(never, l).size() == 5);
  // With probability 0.5 it fires on about half the calls.
  c.xtc_probability = 0.5f;
  c.seed = 11;
  Sampler half(c);
  int fired = 0;
  for (int i = 0; i < 400; ++i) fired += kept(half, l).size() == 3 ? 1 : 0;
  CHECK(fired > 150);
  CHECK(fired < 250);
}

TEST_CASE("DRY: the penalty grows with the length of the repeat a token would extend") {
  auto c = plain();
  c.dry_multiplier = 1.0f;
  c.dry_base = 2.0f;
  c.dry_allowed_length = 2;
  c.dry_sequence_breakers = {};
  // 1 2 3 4 1 2 3: "1 2 3" (length 3) repeats; 4 would extend it: 1 * 2^(3-2).
  auto l = dry_penalties(c, {1, 2, 3, 4, 1, 2, 3});
  CHECK(l[4] == doctest::Approx(-2.0));
  for (int t : {0, 1, 2, 3, 5}) CHECK(l[static_cast<std::size_t>(t)] == 0.0f);
  // One token longer: twice the penalty.
  l = dry_penalties(c, {1, 2, 3, 4, 5, 1, 2, 3, 4});
  CHECK(l[5] == doctest::Approx(-4.0));
  // At the allowed length: multiplier * base^0.
  l = dry_penalties(c, {1, 2, 7, 1, 2});
  CHECK(l[7] == doctest::Approx(-1.0));
  // Shorter than allowed: nothing.
  l = dry_penalties(c, {1, 7, 1});
  CHECK(l[7] == 0.0f);
  // A breaker inside the repeat caps its length; a breaker is never penalised.
  c.dry_breaker_tokens = {2};
  l = dry_penalties(c, {1, 2, 3, 4, 1, 2, 3});
  CHECK(l[4] == 0.0f);
  c.dry_breaker_tokens = {4};
  l = dry_penalties(c, {1, 2, 3, 4, 1, 2, 3});
  CHECK(l[4] == 0.0f);
  // The window: a repeat outside the last N tokens does not count.
  c.dry_breaker_tokens = {};
  c.dry_penalty_last_n = 4;
  l = dry_penalties(c, {1, 2, 3, 4, 1, 2, 3});
  CHECK(l[4] == 0.0f);
  c.dry_penalty_last_n = 0;
  l = dry_penalties(c, {1, 2, 3, 4, 1, 2, 3});
  CHECK(l[4] == 0.0f);
}

TEST_CASE("mirostat v1 and v2 steer the observed surprise to tau") {
  // A Zipf-like distribution over 500 tokens.
  std::vector<double> probs;
  double z = 0;
  for (int i = 1; i <= 500; ++i) z += 1.0 / i;
  for (int i = 1; i <= 500; ++i) probs.push_back(1.0 / i / z);
  const auto l = logits_of(probs);
  for (int version : {1, 2}) {
    for (float tau : {2.0f, 4.0f}) {
      CAPTURE(version);
      CAPTURE(tau);
      auto c = plain();
      c.mirostat = version;
      c.mirostat_tau = tau;
      c.mirostat_eta = 0.1f;
      c.top_k = 1;  // ignored: mirostat replaces the truncating steps
      c.seed = 3;
      Sampler s(c);
      double surprise = 0;
      int n = 0;
      for (int i = 0; i < 3000; ++i) {
        s.sample(l, {});
        if (i >= 1000) surprise += -std::log2(s.chosen().prob), ++n;
      }
      CHECK(surprise / n == doctest::Approx(tau).epsilon(0.1));
      CHECK(s.candidates_kept() > 1);
    }
  }
  // v2's first cut is at mu = 2 * tau bits: tau 1 keeps the tokens with p >= 1/4.
  auto c = plain();
  c.mirostat = 2;
  c.mirostat_tau = 1.0f;
  Sampler first(c);
  CHECK(kept(first, logits_of({0.5, 0.3, 0.1, 0.1})) == std::vector<TokenId>{0, 1});
}

TEST_CASE("sampler order from llama.cpp's --samplers spelling") {
  const auto order = parse_sampler_order("penalties;dry;top_n_sigma;top_k;typ_p;top_p;min_p;xtc;temperature");
  const std::vector<SamplerStep> expected = {SamplerStep::LogitBias, SamplerStep::Penalties, SamplerStep::Dry,
                                             SamplerStep::TopNSigma, SamplerStep::TopK,      SamplerStep::TypicalP,
                                             SamplerStep::TopP,      SamplerStep::MinP,      SamplerStep::Xtc,
                                             SamplerStep::Temperature};
  CHECK(order == expected);
  CHECK(parse_sampler_order("temp,min-p") ==
        std::vector<SamplerStep>{SamplerStep::LogitBias, SamplerStep::Temperature, SamplerStep::MinP});
  CHECK_THROWS_WITH_AS(parse_sampler_order("top_k;banana"), doctest::Contains("banana"), Error);
  CHECK_THROWS_WITH_AS(parse_sampler_order("top_k;top-k"), doctest::Contains("twice"), Error);
  CHECK_THROWS_AS(parse_sampler_order(";"), Error);
  // The order is honoured: min_p after temperature sees the flattened distribution.
  auto c = plain();
  c.temperature = 2;
  c.min_p = std::exp(-1.2f);
  const std::vector<float> l{1.0f, 3.0f, 2.0f, 0.0f, -1.0f, 2.5f};
  c.order = parse_sampler_order("min_p;temperature");
  Sampler before(c);
  CHECK(kept(before, l) == std::vector<TokenId>{1, 2, 5});
  c.order = parse_sampler_order("temperature;min_p");
  Sampler after(c);
  CHECK(kept(after, l) == std::vector<TokenId>{0, 1, 2, 5});
}

TEST_CASE("the new parameters are validated by name") {
  auto error_of = [](auto change) {
    SamplerConfig c;
    change(c);
    try {
      Sampler s(c);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error_of([](SamplerConfig& c) { c.mirostat = 3; }).find("mirostat") != std::string::npos);
  CHECK(error_of([](SamplerConfig& c) { c.mirostat_tau = -1; }).find("mirostat_tau") != std::string::npos);
  CHECK(error_of([](SamplerConfig& c) { c.mirostat_eta = NAN; }).find("mirostat_eta") != std::string::npos);
  CHECK(error_of([](SamplerConfig& c) { c.mirostat_m = 1; }).find("mirostat_m") != std::string::npos);
  CHECK(error_of([](SamplerConfig& c) { c.dry_multiplier = -1; }).find("dry_multiplier") != std::string::npos);
  CHECK(error_of([](SamplerConfig& c) { c.dry_base = 0.5f; }).find("dry_base") != std::string::npos);
  CHECK(error_of([](SamplerConfig& c) { c.dry_allowed_length = 0; }).find("dry_allowed_length") != std::string::npos);
  CHECK(error_of([](SamplerConfig& c) { c.dry_penalty_last_n = -2; }).find("dry_penalty_last_n") != std::string::npos);
  CHECK(error_of([](SamplerConfig& c) { c.dry_sequence_breakers = {""}; }).find("dry_sequence_breakers") != std::string::npos);
  CHECK(error_of([](SamplerConfig& c) { c.xtc_probability = 1.5f; }).find("xtc_probability") != std::string::npos);
  CHECK(error_of([](SamplerConfig& c) { c.xtc_threshold = -0.1f; }).find("xtc_threshold") != std::string::npos);
  CHECK(error_of([](SamplerConfig& c) { c.top_n_sigma = NAN; }).find("top_n_sigma") != std::string::npos);
  CHECK(error_of([](SamplerConfig&) {}).empty());
}
