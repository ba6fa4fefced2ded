// Sampler: logits + token history -> the next token, through a configurable chain of
// small steps (logit bias, penalties, top-k, typical-p, top-p, min-p, temperature), with
// every step's effect visible: the distribution before and after the filters.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "inkling/tokenizer.hpp"

namespace inkling {

enum class SamplerStep { LogitBias, Penalties, TopK, TypicalP, TopP, MinP, Temperature };
std::string_view sampler_step_name(SamplerStep step) noexcept;

struct SamplerConfig {
  float temperature = 0.8f;      // 0 = greedy (argmax, lowest id on ties)
  int top_k = 40;                // 0 = off
  float top_p = 0.95f;           // 1 = off; in (0, 1]
  float min_p = 0.05f;           // 0 = off; in [0, 1]
  float typical_p = 1.0f;        // 1 = off; in (0, 1]
  float repeat_penalty = 1.0f;   // > 0; 1 = off: positive logits of seen tokens / it, negative * it
  float presence_penalty = 0.0f; // subtracted once from every seen token
  float frequency_penalty = 0.0f;// subtracted once per occurrence
  int penalty_window = 64;       // last N history tokens the penalties look at; 0 = off, -1 = all
  std::vector<std::pair<TokenId, float>> logit_bias;  // added to the logit; -inf bans
  std::uint64_t seed = 0;        // same seed + same inputs = same tokens, on every platform
  int min_keep = 1;              // the truncating filters keep at least this many tokens
  int top_n = 10;                // how many entries top() / raw_top() report (<= 100)
  std::vector<SamplerStep> order = default_order();

  static std::vector<SamplerStep> default_order();  // llama.cpp's chain order
  // Throws Error(InvalidArgument) naming the first parameter out of range.
  void validate() const;
};

struct TokenProb {
  TokenId id = kNoToken;
  float prob = 0;     // in [0, 1]
  float logprob = 0;  // natural log
};

// One thread at a time; reuses its buffers, so a call allocates nothing once the
// vocabulary size is known.
class Sampler {
 public:
  explicit Sampler(SamplerConfig config);

  // Chooses the next token. `history` is every token so far (prompt and generated);
  // ids outside the logits' range are ignored by the penalties. Throws
  // Error(InvalidArgument) for an empty span or a NaN / +inf logit (naming the token).
  TokenId sample(std::span<const float> logits, std::span<const TokenId> history);

  // After sample(): the final distribution (after every filter and the temperature;
  // for greedy, the temperature-1 softmax of the tokens the filters kept), sorted by
  // probability, at most n (and config.top_n) entries.
  std::span<const TokenProb> top(int n) const;
  // After sample(): the model's own distribution (softmax of the raw logits, before
  // bias, penalties and filters), sorted by probability.
  std::span<const TokenProb> raw_top(int n) const;
  TokenProb chosen() const noexcept { return chosen_; }
  TokenProb chosen_raw() const noexcept { return chosen_raw_; }
  float entropy() const noexcept { return entropy_; }        // nats, final distribution
  float raw_entropy() const noexcept { return raw_entropy_; }  // nats, raw distribution
  int candidates_kept() const noexcept { return kept_; }     // tokens left after the filters

  const SamplerConfig& config() const noexcept { return config_; }
  void reseed(std::uint64_t seed) noexcept;
  // The random generator's state, to save and restore a session exactly.
  std::vector<std::uint64_t> rng_state() const;
  void set_rng_state(std::span<const std::uint64_t> state);

  // Argmax, lowest id on ties; Error(InvalidArgument) for an empty span.
  static TokenId greedy(std::span<const float> logits);

  struct Candidate {
    TokenId id;
    float logit;
    float p;
  };

 private:
  void apply(SamplerStep step, std::span<const TokenId> history);
  void softmax(bool sort_first);
  double next_uniform() noexcept;  // [0, 1)

  SamplerConfig config_;
  std::uint64_t rng_[4];
  std::vector<Candidate> cand_;
  bool sorted_ = false;
  std::vector<int> counts_;   // per token id, for penalties (touched ids reset after use)
  std::vector<TokenId> touched_;
  std::vector<float> bias_;   // per token id, built lazily for the vocab size
  std::vector<TokenProb> top_, raw_top_;
  TokenProb chosen_{}, chosen_raw_{};
  float entropy_ = 0, raw_entropy_ = 0;
  int kept_ = 0;
};

}  // namespace inkling
