// Scoring text with a model instead of generating it: the log-probability of each token
// given the ones before it (prompt logprobs, as OpenAI's echo + logprobs reports them),
// and perplexity over a long text in windows, as llama.cpp's perplexity tool computes it.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "inkling/model.hpp"
#include "inkling/sampler.hpp"
#include "inkling/types.hpp"

namespace inkling {

struct TokenScore {
  TokenId id = kNoToken;
  float logprob = 0;          // natural log of p(id | the tokens before it)
  std::vector<TokenProb> top; // the model's most likely tokens at that place, best first
};

// Scores tokens[1..] in one pass (tokens[0] has no context and is not scored, so the
// result has tokens.size() - 1 entries, entry i for tokens[i + 1]). top_n in [0, 100]
// alternatives each. Error(InvalidArgument) for fewer than 2 tokens, an id out of range
// or top_n out of range; Error(ContextFull) for more tokens than the model's context.
std::vector<TokenScore> score_tokens(const Model& model, std::span<const TokenId> tokens, int top_n = 0);

struct PerplexityOptions {
  int n_ctx = 512;  // window length in tokens (>= 2, at most the model's context)
  // 0: llama.cpp's default: consecutive windows of n_ctx tokens, each scoring its second
  // half. > 0: windows start every `stride` tokens and each scores its last `stride`
  // tokens (llama.cpp's --ppl-stride), in [1, n_ctx - 1].
  int stride = 0;
  // Called after each window with its index, the window count and the running estimate.
  std::function<void(int, int, double)> on_window;
};

struct PerplexityResult {
  double perplexity = 0;  // exp(mean negative log-likelihood)
  double nll = 0;         // mean negative log-likelihood per scored token (nats)
  int scored_tokens = 0;
  int windows = 0;
};

// Perplexity of `tokens` (the text's tokens, without a BOS: when the vocabulary adds
// one, it replaces each window's first token, as llama.cpp does). Error(InvalidArgument)
// for bad options or a text shorter than one window.
PerplexityResult perplexity(const Model& model, std::span<const TokenId> tokens, const PerplexityOptions& options);

}  // namespace inkling
