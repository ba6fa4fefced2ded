// Scoring: per-token log-probabilities of a given text, and perplexity in llama.cpp's
// windows, against plain forward passes.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/scoring.hpp"
#include "inkling/tokenizer.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

// log p(tokens[i + 1] | tokens[..i]) by feeding one token at a time.
std::vector<double> logprobs_one_by_one(const Model& m, const std::vector<TokenId>& tokens) {
  KVCache cache(m, KVCacheOptions{static_cast<int>(tokens.size())});
  std::vector<float> logits(static_cast<std::size_t>(m.config().n_vocab));
  std::vector<double> out;
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    Batch b;
    b.add(tokens[i], static_cast<int>(i), 0, true);
    m.forward(b, cache, logits);
    float mx = -INFINITY;
    for (float l : logits) mx = std::max(mx, l);
    double z = 0;
    for (float l : logits) z += std::exp(static_cast<double>(l) - mx);
    out.push_back(logits[static_cast<std::size_t>(tokens[i + 1])] - (mx + std::log(z)));
  }
  return out;
}

std::vector<TokenId> story_tokens(const Model& m, int min_tokens) {
  std::string text;
  while (static_cast<int>(m.tokenizer().encode(text, false, false).size()) < min_tokens)
    text += "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ";
  return m.tokenizer().encode(text, false, false);
}

}  // namespace

TEST_CASE("score_tokens gives each token's log-probability given the ones before, and the top choices") {
  auto model = test::stories_model();
  if (!model) return;
  const auto tokens = model->tokenizer().encode("Once upon a time, there was a little girl", true, false);
  const auto scores = score_tokens(*model, tokens, 3);
  const auto expected = logprobs_one_by_one(*model, tokens);
  REQUIRE(scores.size() == tokens.size() - 1);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    CHECK(scores[i].id == tokens[i + 1]);
    CHECK(scores[i].logprob == doctest::Approx(expected[i]).epsilon(1e-4));
    REQUIRE(scores[i].top.size() == 3);
    CHECK(scores[i].top[0].logprob >= scores[i].top[1].logprob);
    CHECK(scores[i].top[0].logprob >= scores[i].logprob - 1e-6);
  }
  CHECK(score_tokens(*model, tokens, 0)[0].top.empty());
  CHECK_THROWS_AS(score_tokens(*model, std::vector<TokenId>{1}, 0), Error);
  CHECK_THROWS_AS(score_tokens(*model, tokens, 101), Error);
}

TEST_CASE("perplexity: llama.cpp's windows, default and strided, against per-token scores") {
  auto model = test::stories_model();
  if (!model) return;
  const auto tokens = story_tokens(*model, 200);
  const TokenId bos = model->tokenizer().special().bos;
  auto expected = [&](int n_ctx, int stride) {
    const int step = stride > 0 ? stride : n_ctx;
    const int first = stride > 0 ? n_ctx - stride - 1 : n_ctx / 2;
    const int windows = stride > 0 ? (static_cast<int>(tokens.size()) - n_ctx + stride - 1) / stride
                                   : static_cast<int>(tokens.size()) / n_ctx;
    double nll = 0;
    int n = 0;
    for (int w = 0; w < windows; ++w) {
      std::vector<TokenId> win(tokens.begin() + w * step, tokens.begin() + w * step + n_ctx);
      win[0] = bos;
      const auto lp = logprobs_one_by_one(*model, win);
      for (int j = first; j < n_ctx - 1; ++j, ++n) nll -= lp[static_cast<std::size_t>(j)];
    }
    return std::make_pair(std::exp(nll / n), n);
  };
  for (const auto& setting : {std::pair{64, 0}, std::pair{32, 0}, std::pair{64, 16}}) {
    const int ctx = setting.first, stride = setting.second;  // CAPTURE's lambda cannot take a binding (clang 14)
    CAPTURE(ctx);
    CAPTURE(stride);
    int windows_seen = 0;
    const auto r = perplexity(*model, tokens, {.n_ctx = ctx, .stride = stride, .on_window = [&](int, int, double) { ++windows_seen; }});
    const auto [ppl, n] = expected(ctx, stride);
    CHECK(r.perplexity == doctest::Approx(ppl).epsilon(1e-4));
    CHECK(r.scored_tokens == n);
    CHECK(r.windows == windows_seen);
    CHECK(r.perplexity > 1);
  }
  PerplexityOptions o;
  o.n_ctx = 1;
  CHECK_THROWS_WITH_AS(perplexity(*model, tokens, o), doctest::Contains("n_ctx"), Error);
  o.n_ctx = 64;
  o.stride = 64;
  CHECK_THROWS_WITH_AS(perplexity(*model, tokens, o), doctest::Contains("stride"), Error);
  o.stride = 0;
  CHECK_THROWS_WITH_AS(perplexity(*model, std::span(tokens).first(10), o), doctest::Contains("fewer"), Error);
}
