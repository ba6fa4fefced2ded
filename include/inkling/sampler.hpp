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
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "inkling/types.hpp"

namespace inkling {

// The steps of the chain. The final softmax + draw always runs last and is not listed.
// Each is a no-op at its "off" value, so the default order can list them all.
enum class SamplerStep {
  LogitBias, Penalties, TopK, TypicalP, TopP, MinP, Temperature,
  Dry, TopNSigma, Xtc, Mirostat
};
// The step's name as in errors and the C ABI: logit_bias, penalties, dry, top_n_sigma,
// top_k, typical_p, top_p, min_p, xtc, temperature, mirostat.
std::string_view sampler_step_name(SamplerStep step) noexcept;
// An order from names separated by ';' or ',' (llama.cpp's --samplers spelling, e.g.
// "penalties;dry;top_k;typ_p;top_p;min_p;xtc;temperature"; our names and llama.cpp's
// aliases such as "top-k", "typ_p", "temp", "top-n-sigma" are accepted). logit_bias is
// put first when not listed (llama.cpp always applies the bias first).
// Error(InvalidArgument) naming an unknown or repeated name, or for an empty list.
std::vector<SamplerStep> parse_sampler_order(std::string_view names);

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
  // DRY ("don't repeat yourself", llama.cpp's definition): a token that would extend a
  // repeat of an earlier sequence of at least dry_allowed_length tokens loses
  // dry_multiplier * dry_base^(repeat length - dry_allowed_length) from its logit. The
  // repeat is searched in the last dry_penalty_last_n history tokens (-1 = all, 0 = off)
  // and cannot reach back across a sequence breaker.
  float dry_multiplier = 0.0f;   // >= 0; 0 = off
  float dry_base = 1.75f;        // >= 1
  int dry_allowed_length = 2;    // >= 1
  int dry_penalty_last_n = -1;   // >= -1
  // Breakers as text: a token whose text contains one breaks a repeat (the generators
  // resolve them with the model's vocabulary into dry_breaker_tokens).
  std::vector<std::string> dry_sequence_breakers = {"\n", ":", "\"", "*"};
  std::vector<TokenId> dry_breaker_tokens;  // breakers as token ids (a Sampler used alone)
  // Top-n-sigma: keeps the tokens whose logit is within top_n_sigma standard deviations
  // (of the finite logits) of the best one. <= 0 = off.
  float top_n_sigma = -1.0f;
  // XTC ("exclude top choices"): with probability xtc_probability, when at least two
  // tokens have probability >= xtc_threshold, all of them but the least likely are
  // removed. probability 0 = off; a threshold > 0.5 can never hold twice, so it is off.
  float xtc_probability = 0.0f;  // in [0, 1]
  float xtc_threshold = 0.1f;    // in [0, 1]
  // Mirostat (1 or 2; 0 = off) replaces the truncating steps: the chain becomes the
  // logit adjusters in `order` (bias, penalties, DRY), temperature, then mirostat, which
  // keeps the tokens whose surprise (-log2 p) fits a running target mu (starting at
  // 2 * tau) and moves mu by eta * (tau - observed surprise) after each token. Version 1
  // estimates the vocabulary's Zipf exponent from the mirostat_m most likely tokens.
  int mirostat = 0;
  float mirostat_tau = 5.0f;     // target surprise in bits, >= 0
  float mirostat_eta = 0.1f;     // learning rate, >= 0
  int mirostat_m = 100;          // >= 2
  int min_keep = 1;              // >= 1; the truncating filters keep at least this many
  int top_n = 10;                // in [0, 100]: how many entries top() / raw_top() can report
  std::vector<SamplerStep> order = default_order();

  // llama.cpp's order: logit_bias, penalties, dry, top_n_sigma, top_k, typical_p, top_p,
  // min_p, xtc, temperature (then mirostat, a no-op unless enabled).
  static std::vector<SamplerStep> default_order();
  // Throws Error(InvalidArgument) whose message names the first parameter out of range,
  // e.g. "sampler: top_p must be in (0, 1], got 1.5".
  void validate() const;
};

struct TokenProb {
  TokenId id = kNoToken;
  float prob = 0;     // in [0, 1]
  float logprob = 0;  // natural log
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
