// Sampler: logits + token history -> the next token, through a configurable chain of
// small steps (logit bias, penalties, top-k, typical-p, top-p, min-p, temperature), with
// every step's effect visible: the distribution before and after the filters.
//
// Semantics follow llama.cpp's sampler chain (REFERENCE.md §5) with these choices:
//  - Temperature 0 is greedy: the argmax of the logits after bias and penalties (lowest id
//    on ties). The truncating filters (top-k, typical-p, top-p, min-p) are skipped then:
//    they cannot make a better choice than the argmax (llama.cpp lets typical-p drop it).
//  - Sums (softmax, cumulative top-p / typical-p mass) are taken in double; llama.cpp
//    uses float, so a cut can differ only when the mass is within ~1e-6 of the threshold.
//  - The draw is our own: xoshiro256** seeded through splitmix64, a uniform double made
//    from the top 53 bits of one output, and an inverse-CDF walk over the kept candidates
//    in the order the chain left them (every sort uses a strict total order: logit
//    descending, lower id first). Nothing comes from <random>, whose distributions differ
//    between standard libraries, so a seed gives the same tokens wherever the platform's
//    expf agrees (libms can differ in the last bit, which moves a draw only when the
//    uniform lands within ~1e-7 of a boundary).
//  - Tokens whose logit is -inf (from the model, a bias or a penalty) are banned: they
//    never appear in top() / raw_top() and are never drawn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "inkling/types.hpp"

namespace inkling {

// The steps of the chain. The final softmax + draw always runs last and is not listed.
enum class SamplerStep { LogitBias, Penalties, TopK, TypicalP, TopP, MinP, Temperature };
std::string_view sampler_step_name(SamplerStep step) noexcept;

struct SamplerConfig {
  float temperature = 0.8f;      // >= 0; 0 = greedy (argmax, lowest id on ties)
  int top_k = 40;                // >= 0; 0 = off
  float top_p = 0.95f;           // in (0, 1]; 1 = off
  float min_p = 0.05f;           // in [0, 1]; 0 = off
  float typical_p = 1.0f;        // in (0, 1]; 1 = off
  float repeat_penalty = 1.0f;   // > 0; 1 = off: positive logits of seen tokens / it, others * it
  float presence_penalty = 0.0f; // subtracted once from every seen token (may be negative)
  float frequency_penalty = 0.0f;// subtracted once per occurrence (may be negative)
  int penalty_window = 64;       // last N history tokens the penalties look at; 0 = off, -1 = all
  // Added to the token's logit; -inf bans it. Several entries for one id add up. Ids at
  // or beyond the vocabulary size are ignored.
  std::vector<std::pair<TokenId, float>> logit_bias;
  // Same seed + same inputs = same tokens. kRandomSeed: a seed drawn from the system's
  // entropy source when the Sampler is made (Sampler::seed() reports it).
  std::uint64_t seed = 0;
  static constexpr std::uint64_t kRandomSeed = ~std::uint64_t{0};
  int min_keep = 1;              // >= 1; the truncating filters keep at least this many
  int top_n = 10;                // in [0, 100]: how many entries top() / raw_top() can report
  std::vector<SamplerStep> order = default_order();

  // llama.cpp's order: logit_bias, penalties, top_k, typical_p, top_p, min_p, temperature.
  static std::vector<SamplerStep> default_order();
  // Throws Error(InvalidArgument) whose message names the first parameter out of range,
  // e.g. "sampler: top_p must be in (0, 1], got 1.5".
  void validate() const;
};

struct TokenProb {
  TokenId id = kNoToken;
  float prob = 0;     // in [0, 1]
  float logprob = 0;  // natural log
  float logit = 0;    // the score it came from: the model's logit (raw distribution), or after
                      // the sampler's steps and temperature (final distribution)
};

// One thread at a time. After the first call for a vocabulary size, sample() allocates
// nothing. Copyable (the copy continues the same random sequence); a moved-from Sampler
// may only be assigned to or destroyed.
class Sampler {
 public:
  // Validates the config (see SamplerConfig::validate) and seeds the generator.
  explicit Sampler(SamplerConfig config);
  ~Sampler();
  Sampler(const Sampler& other);
  Sampler& operator=(const Sampler& other);
  Sampler(Sampler&&) noexcept;
  Sampler& operator=(Sampler&&) noexcept;

  // Chooses the next token. `history` is every token so far (prompt and generated), oldest
  // first; the penalties look at its last penalty_window entries, and ids outside
  // [0, logits.size()) are ignored there. The logits may change size between calls.
  // Throws Error(InvalidArgument) for an empty span, a NaN or +inf logit (naming the
  // token), a logit a step pushes to +inf or NaN (naming the token and the step), or when
  // no token is left (every logit -inf).
  TokenId sample(std::span<const float> logits, std::span<const TokenId> history);

  // After sample(): the final distribution, most likely first (ties: lower id), at most
  // min(n, config.top_n) entries. It is the softmax of the candidates the filters kept,
  // after the temperature: the distribution the token was drawn from. For greedy
  // (temperature 0) it is the temperature-1 softmax of the logits after bias and
  // penalties, over the whole vocabulary: the model's opinion as the sampler saw it.
  std::span<const TokenProb> top(int n) const;
  // After sample(): the model's own distribution (temperature-1 softmax of the logits as
  // given, before bias, penalties and filters), most likely first (ties: lower id).
  std::span<const TokenProb> raw_top(int n) const;
  TokenProb chosen() const noexcept;      // the token in the final distribution
  TokenProb chosen_raw() const noexcept;  // the same token in the raw distribution
  float entropy() const noexcept;         // nats, final distribution
  float raw_entropy() const noexcept;     // nats, raw distribution
  int candidates_kept() const noexcept;   // tokens with a finite logit in the final distribution

  // Runs only the steps that adjust logits without shaping the distribution (logit bias,
  // penalties: the ones greedy decoding applies too), in the configured order, writing
  // the adjusted logits back into `logits`. Beam search scores its candidates on these.
  // Same errors as sample().
  void adjust_logits(std::span<float> logits, std::span<const TokenId> history);

  const SamplerConfig& config() const noexcept;
  // The seed in use: config().seed, or the one drawn for kRandomSeed.
  std::uint64_t seed() const noexcept;
  // Restarts the random sequence as if constructed with this seed.
  void reseed(std::uint64_t seed) noexcept;
  // The random generator's state (kRngStateWords words), to save and restore a session
  // exactly. set_rng_state throws Error(InvalidArgument) for a wrong size or all zeros.
  static constexpr std::size_t kRngStateWords = 4;
  std::vector<std::uint64_t> rng_state() const;
  void set_rng_state(std::span<const std::uint64_t> state);

  // Argmax, lowest id on ties. Error(InvalidArgument) for an empty span or a NaN logit.
  static TokenId greedy(std::span<const float> logits);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace inkling
