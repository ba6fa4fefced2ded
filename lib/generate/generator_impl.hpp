// Generator internals shared by the sampling loop and beam search.
#pragma once

#include <chrono>
#include <optional>

#include "generate/stop_text.hpp"
#include "inkling/generator.hpp"

namespace inkling {

struct Generator::Impl {
  std::shared_ptr<const Model> model;
  GenerationConfig config;
  KVCache cache;
  Sampler sampler;
  Detokenizer detok;
  detail::StopText stop_text;
  std::vector<float> logits;
  std::vector<TokenId> history;  // prompt + generated, for the penalties
  std::vector<TokenId> generated;
  std::vector<TokenId> cached;  // the tokens whose K/V sequence 0 of the cache holds
  // Prompt-lookup speculation: draft tokens already in the cache (beyond `position`)
  // and the logits rows that follow each, consumed by the next steps.
  std::vector<TokenId> spec_tokens, spec_draft;
  std::vector<float> spec_rows;
  std::size_t spec_next = 1;
  Batch spec_batch;
  // Speculation with a draft model: its own cache and the tokens it holds.
  std::optional<KVCache> draft_cache;
  std::vector<TokenId> draft_cached;
  std::vector<float> draft_logits;
  std::string text;
  Metrics metrics;
  StopReason reason = StopReason::None;
  bool active = false;  // a prompt was fed and generation has not ended
  int position = 0;     // next position in sequence 0
  std::atomic<bool> cancel_requested{false};
  using Clock = std::chrono::steady_clock;
  Clock::time_point t_start, t_prev, t_first;
  std::vector<double> token_ms;
  double logprob_sum = 0;  // of the chosen tokens in the model's distribution (incl. a final EOS)
  int logprob_count = 0;

  Impl(std::shared_ptr<const Model> m, GenerationConfig c);
  void begin(std::span<const TokenId> prompt);
  std::optional<StepInfo> next();
  void finish_metrics();
  void advance(TokenId id);
  void drop_speculation();
  void draft_with_model(TokenId id, int max_tokens, std::vector<TokenId>& out);
  std::vector<Alternative> alternatives(std::span<const TokenProb> probs) const;
  GenerationResult beam_search(std::span<const TokenId> prompt);
};

namespace detail {
double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b);
std::size_t peak_rss_bytes();
// Logits of tokens that may not end generation yet are set to -inf.
// Prompt lookup: up to max_tokens that followed the most recent earlier occurrence of the
// context's last 3 (else 2, else 1) tokens.
void lookup_draft(std::span<const TokenId> context, int max_tokens, std::vector<TokenId>& out);
void ban_ending_tokens(const Tokenizer& tok, const GenerationConfig& config, std::span<float> logits);
}  // namespace detail

}  // namespace inkling
