// One sequence's choices: samples each token from the logits that follow it, applies the
// stop rules (EOS, stop tokens, stop strings, limits), releases UTF-8-complete text and
// keeps the sequence's metrics. It runs no forward pass: Generator (one sequence, with
// speculation and beam search) and BatchGenerator (many sequences in one pass) own the
// model, the cache and the positions, and hand it the logits.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "generate/stop_rules.hpp"
#include "inkling/generator.hpp"

namespace inkling::detail {

struct Decoding {
  using Clock = std::chrono::steady_clock;

  std::shared_ptr<const Model> model;
  GenerationConfig config;
  Sampler sampler;
  Detokenizer detok;
  StopText stop_text;
  std::optional<TokenConstraint> grammar;  // config.grammar's state over the generated tokens
  std::vector<TokenId> history;  // prompt + generated, for the penalties
  std::vector<TokenId> generated;
  std::string text;
  Metrics metrics;
  StopReason reason = StopReason::None;
  bool active = false;  // a prompt was fed and generation has not ended
  std::atomic<bool> cancel_requested{false};
  Clock::time_point t_start, t_prev, t_first;
  std::vector<double> token_ms;
  double logprob_sum = 0;  // of the chosen tokens in the model's distribution (incl. a final EOS)
  int logprob_count = 0;
  std::size_t kv_bytes = 0;  // reported in the metrics

  // Validates the config (Error(InvalidArgument) naming the parameter).
  Decoding(std::shared_ptr<const Model> m, GenerationConfig c);

  // Starts a new generation after `prompt`, timed from t0. Error(InvalidArgument) for an
  // empty prompt, Error(ContextFull) if it leaves no room in n_ctx positions.
  void start(std::span<const TokenId> prompt, int n_ctx, Clock::time_point t0);
  // The prompt's logits are ready: `reused` of its tokens came from the cache.
  void prefilled(int reused);
  // Chooses the token that follows `logits` (which it may modify: ending tokens are banned
  // before min_new_tokens), given that the next token would go to `position` of a context
  // of n_ctx. Returns nullopt when generation ended before choosing (cancelled, token
  // limit); otherwise the step, with final = true if it ended generation. While active
  // stays true the caller must put step->token at `position` and bring the next logits.
  // Error(ContextFull) when the context is full under ContextFullPolicy::Error.
  std::optional<StepInfo> choose(std::span<float> logits, int position, int n_ctx);
  // Ends generation now (e.g. a stream whose reader went away).
  void end(StopReason r);
  GenerationResult result() const;  // the sampled sequence, its metrics and stop reason

  std::vector<Alternative> alternatives(std::span<const TokenProb> probs) const;
  std::vector<Alternative> top_alternatives(std::span<const float> logits, int n) const;
  void finish_metrics();
  // The reason to report when generation ends without an end token: `r`, unless a
  // grammar is set and the text is not a complete sentence of it.
  StopReason unless_incomplete(StopReason r) const;
};

double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b);

}  // namespace inkling::detail
