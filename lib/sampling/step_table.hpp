// The sampler steps as data: one row per step, giving its identity (the SamplerStep, the
// name used in errors, the C ABI and `--samplers`), whether it shapes the distribution
// (greedy decoding skips those) and what it does. The table is the only place that
// knows the list of steps: validation, names, the default order and the chain's dispatch
// all read it, so adding a step is one SamplerStep value and one row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "inkling/sampler.hpp"
#include "sampling/candidates.hpp"
#include "sampling/rng.hpp"
#include "sampling/steps.hpp"

namespace inkling::sampling {

// What one Sampler's steps keep between calls: the parameters in the form the steps take
// them and per-sequence state and scratch. Copyable: a copied Sampler carries on the same
// sequence. A step that needs state of its own adds its fields here.
struct ChainState {
  // `seed` is the resolved one (never SamplerConfig::kRandomSeed).
  ChainState(const SamplerConfig& c, std::uint64_t seed);

  Xoshiro256 rng;  // the final draw's and XTC's
  std::vector<TokenBias> bias;  // merged and sorted (merge_logit_bias)
  PenaltyParams penalties;
  std::size_t min_keep;
  PenaltyScratch penalty_scratch;
  DryParams dry;
  std::vector<TokenId> dry_breakers;  // sorted, unique
  DryScratch dry_scratch;
  float mirostat_mu;  // the running surprise target, bits
};

struct StepDef {
  SamplerStep step;
  std::string_view name;
  // Other spellings parse_sampler_order accepts (llama.cpp's), space-separated.
  std::string_view aliases;
  // True for the steps that reshape or truncate the distribution; greedy decoding
  // (temperature 0) skips them and takes the argmax after the others (bias, penalties).
  bool shapes_distribution;
  // Runs the step over the candidates; `history` is every token so far, oldest first.
  void (*apply)(const SamplerConfig& config, ChainState& state, CandidateSet& set, std::span<const TokenId> history);
  // Optional: told the token drawn and its probability in the final distribution (for
  // steps with feedback, e.g. a surprise target, or a grammar that advances).
  void (*accept)(const SamplerConfig& config, ChainState& state, const TokenProb& chosen) = nullptr;
};

// Every step, in the default chain order.
std::span<const StepDef> step_table() noexcept;
// The row of a step, or nullptr for a value that is not a SamplerStep (e.g. an integer
// cast through the C ABI).
const StepDef* find_step(SamplerStep step) noexcept;
// The row whose name is `name`, or nullptr.
const StepDef* find_step(std::string_view name) noexcept;

}  // namespace inkling::sampling
