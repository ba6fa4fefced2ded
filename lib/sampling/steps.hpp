// The steps of the sampler chain, one function each, over the candidate set. Semantics
// are llama.cpp's (REFERENCE.md §5) unless sampler.hpp says otherwise. Steps that change
// logits throw Error(InvalidArgument) naming the token and step when a logit becomes
// +inf or NaN (an extreme parameter overflowed float), because no order or probability
// is defined after that.
#pragma once

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "inkling/types.hpp"
#include "sampling/candidates.hpp"

namespace inkling::sampling {

using TokenBias = std::pair<TokenId, float>;

// Sorted by id, one entry per id (duplicates summed), ready for apply_logit_bias. Throws
// Error(InvalidArgument) if a sum overflows to +inf.
std::vector<TokenBias> merge_logit_bias(std::span<const TokenBias> bias);
// `bias` comes from merge_logit_bias; ids beyond the vocabulary are ignored.
void apply_logit_bias(CandidateSet& set, std::span<const TokenBias> bias);

struct PenaltyParams {
  float repeat = 1;     // seen tokens: positive logits / repeat, the others * repeat
  float frequency = 0;  // minus frequency * count
  float presence = 0;   // minus presence once
  int window = 64;      // last N history entries; 0 = off, -1 = all
};

// Scratch for apply_penalties: per-token counts, all zero between calls.
struct PenaltyScratch {
  std::vector<int> counts;
  std::vector<TokenId> seen;
};

// History ids outside [0, vocab) are ignored.
void apply_penalties(CandidateSet& set, std::span<const TokenId> history, const PenaltyParams& params,
                     PenaltyScratch& scratch);

// Keeps the max(k, min_keep) best; k <= 0 = off. Leaves the kept ones sorted.
void apply_top_k(CandidateSet& set, int k, std::size_t min_keep);
// Keeps the tokens whose surprise -log p is closest to the entropy until their mass
// exceeds p (and at least min_keep); p >= 1 = off. Leaves them in that order.
void apply_typical_p(CandidateSet& set, float p, std::size_t min_keep);
// Keeps the smallest best-first prefix whose mass reaches p (and at least min_keep);
// p >= 1 = off. Sorts only as far as the prefix reaches.
void apply_top_p(CandidateSet& set, float p, std::size_t min_keep);
// Keeps the tokens with probability >= p * the best one's, i.e. logit >= max + ln p
// (at least the min_keep best); p <= 0 = off.
void apply_min_p(CandidateSet& set, float p, std::size_t min_keep);
// Divides every logit by t (> 0).
void apply_temperature(CandidateSet& set, float t);

// Keeps the tokens whose logit is >= max - n * (standard deviation of the finite logits);
// n <= 0 = off.
void apply_top_n_sigma(CandidateSet& set, float n);
// XTC: `draw` is a uniform in [0, 1) (drawn by the caller only when probability > 0).
// When draw < probability (and threshold <= 0.5), if at least two tokens have p >=
// threshold, removes all of those but the least likely, provided min_keep remain.
void apply_xtc(CandidateSet& set, float probability, float threshold, double draw, std::size_t min_keep);

struct DryParams {
  float multiplier = 0;
  float base = 1.75f;
  int allowed_length = 2;
  int last_n = -1;  // -1 = all history, 0 = off
};
// Scratch for apply_dry: the longest repeat each token would extend (zero between calls).
struct DryScratch {
  std::vector<int> repeat;
  std::vector<TokenId> touched;
};
// DRY over the last `last_n` history tokens; `breakers` sorted (token ids that end a
// repeat: a repeat never reaches back across one, and a breaker is never penalised).
void apply_dry(CandidateSet& set, std::span<const TokenId> history, const DryParams& params,
               std::span<const TokenId> breakers, DryScratch& scratch);

// Mirostat's truncation at target surprise mu (bits): v2 keeps the tokens with
// -log2 p <= mu (at least the best); v1 keeps the top k, k from the Zipf exponent
// estimated over the m most likely tokens.
void apply_mirostat_v1(CandidateSet& set, float mu, int m);
void apply_mirostat_v2(CandidateSet& set, float mu);
// mu after a token drawn with probability p: mu - eta * (-log2 p - tau).
float mirostat_update(float mu, float tau, float eta, float p);

}  // namespace inkling::sampling
