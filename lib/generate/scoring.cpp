// Scoring: each wanted position's logits become the log-probability of the token that
// follows it (log-softmax in double), in one batched pass per window.
#include "inkling/scoring.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "inkling/error.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/tokenizer.hpp"

namespace inkling {
namespace {

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorCode::InvalidArgument, what); }

double log_sum_exp(std::span<const float> row) {
  const float mx = *std::max_element(row.begin(), row.end());
  double sum = 0;
  for (float l : row) sum += std::exp(static_cast<double>(l) - mx);
  return mx + std::log(sum);
}

// Runs `window` (positions 0..) through a fresh cache and returns the logits of the
// positions from `first_scored` on (each predicts the next token).
void run_window(const Model& model, KVCache& cache, std::span<const TokenId> window, int first_scored,
                std::vector<float>& logits) {
  cache.clear();
  Batch b;
  for (int i = 0; i < static_cast<int>(window.size()); ++i) b.add(window[static_cast<std::size_t>(i)], i, 0, i >= first_scored);
  logits.resize(static_cast<std::size_t>(b.n_logits()) * static_cast<std::size_t>(model.config().n_vocab));
  model.forward(b, cache, logits);
}

}  // namespace

std::vector<TokenScore> score_tokens(const Model& model, std::span<const TokenId> tokens, int top_n) {
  if (tokens.size() < 2) bad("score_tokens: at least 2 tokens are needed (the first has no context)");
  if (top_n < 0 || top_n > 100) bad("score_tokens: top_n must be in [0, 100], got " + std::to_string(top_n));
  const int n = static_cast<int>(tokens.size());
  KVCache cache(model, {.n_ctx = n});
  std::vector<float> logits;
  run_window(model, cache, tokens.first(tokens.size() - 1), 0, logits);
  const auto n_vocab = static_cast<std::size_t>(model.config().n_vocab);
  std::vector<TokenScore> out(tokens.size() - 1);
  std::vector<TokenId> order(n_vocab);
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    const std::span<const float> row(logits.data() + i * n_vocab, n_vocab);
    const double lse = log_sum_exp(row);
    TokenScore& s = out[i];
    s.id = tokens[i + 1];
    s.logprob = static_cast<float>(row[static_cast<std::size_t>(s.id)] - lse);
    if (top_n == 0) continue;
    std::iota(order.begin(), order.end(), 0);
    const auto k = std::min<std::size_t>(n_vocab, static_cast<std::size_t>(top_n));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                      [&](TokenId a, TokenId b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
    for (std::size_t j = 0; j < k; ++j) {
      const double lp = row[static_cast<std::size_t>(order[j])] - lse;
      s.top.push_back({order[j], static_cast<float>(std::exp(lp)), static_cast<float>(lp)});
    }
  }
  return out;
}

PerplexityResult perplexity(const Model& model, std::span<const TokenId> tokens, const PerplexityOptions& o) {
  const int n_ctx = o.n_ctx;
  if (n_ctx < 2 || n_ctx > model.config().n_ctx_train)
    bad("perplexity: n_ctx must be in [2, " + std::to_string(model.config().n_ctx_train) + "] (the model's context), got " +
        std::to_string(n_ctx));
  if (o.stride < 0 || o.stride >= n_ctx)
    bad("perplexity: stride must be in [0, n_ctx - 1], got " + std::to_string(o.stride));
  const auto n_tokens = static_cast<int>(tokens.size());
  if (n_tokens < n_ctx)
    bad("perplexity: the text has " + std::to_string(n_tokens) + " tokens, fewer than one window of " +
        std::to_string(n_ctx) + " (use a smaller --ctx or a longer text)");
  // llama.cpp: consecutive windows scoring their second half, or stride windows scoring
  // their last `stride` tokens.
  const int step = o.stride > 0 ? o.stride : n_ctx;
  const int first = o.stride > 0 ? n_ctx - o.stride - 1 : n_ctx / 2;
  const int windows = o.stride > 0 ? (n_tokens - n_ctx + o.stride - 1) / o.stride : n_tokens / n_ctx;
  if (windows < 1) bad("perplexity: the text is too short for one window of " + std::to_string(n_ctx) + " tokens");
  const SpecialTokens& sp = model.tokenizer().special();
  const auto n_vocab = static_cast<std::size_t>(model.config().n_vocab);
  KVCache cache(model, {.n_ctx = n_ctx});
  std::vector<float> logits;
  std::vector<TokenId> window;
  PerplexityResult r;
  double nll_sum = 0;
  for (int w = 0; w < windows; ++w) {
    const auto start = static_cast<std::size_t>(w) * static_cast<std::size_t>(step);
    window.assign(tokens.begin() + static_cast<std::ptrdiff_t>(start), tokens.begin() + static_cast<std::ptrdiff_t>(start + n_ctx));
    if (sp.add_bos && sp.bos != kNoToken) window[0] = sp.bos;
    run_window(model, cache, window, first, logits);
    for (int j = first; j < n_ctx - 1; ++j) {
      const std::span<const float> row(logits.data() + static_cast<std::size_t>(j - first) * n_vocab, n_vocab);
      const TokenId next = tokens[start + static_cast<std::size_t>(j) + 1];
      nll_sum -= row[static_cast<std::size_t>(next)] - log_sum_exp(row);
      ++r.scored_tokens;
    }
    ++r.windows;
    if (o.on_window) o.on_window(w, windows, std::exp(nll_sum / r.scored_tokens));
  }
  r.nll = nll_sum / r.scored_tokens;
  r.perplexity = std::exp(r.nll);
  return r;
}

}  // namespace inkling
