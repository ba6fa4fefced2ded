// Generator internals shared by the sampling loop and beam search.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "generate/decoding.hpp"
#include "inkling/generator.hpp"

namespace inkling {

// Generator's state: one sequence (beams use more cache slots), its Decoding plus the
// cache, the prefix it holds and the speculation in flight.
struct Generator::Impl : detail::Decoding {
  KVCache cache;
  std::vector<float> logits;
  std::vector<TokenId> cached;  // the tokens whose K/V sequence 0 of the cache holds
  // Of those, how many a new prompt may reuse: after a context shift the entries beyond
  // the kept ones were computed with the dropped tokens in view.
  std::size_t exact_prefix = SIZE_MAX;
  // Prompt-lookup speculation: draft tokens already in the cache (beyond `position`)
  // and the logits rows that follow each, consumed by the next steps.
  std::vector<TokenId> spec_tokens, spec_draft;
  std::vector<float> spec_rows;
  std::size_t spec_next = 1;
  int spec_budget = 0;  // tokens the next draft may propose (adapts to the acceptance)
  int draft_skip = 0, draft_backoff = 1;  // draft-model steps to sit out after a useless draft
  int draft_misses = 0;                   // steps in a row the draft proposed nothing
  Batch spec_batch;
  // Speculation with a draft model: its own cache and the tokens it holds.
  std::optional<KVCache> draft_cache;
  std::vector<TokenId> draft_cached;
  std::vector<float> draft_logits;
  int position = 0;     // next position in sequence 0
  std::function<void(const BeamStep&)> beam_observer;  // Generator::on_beam_step
  Generator::BeamListener beam_listener;

  Impl(std::shared_ptr<const Model> m, GenerationConfig c);
  void begin(std::span<const TokenId> prompt);
  std::optional<StepInfo> next();
  void advance(TokenId id);
  void drop_speculation();
  void draft_with_model(TokenId id, int max_tokens, std::vector<TokenId>& out);
  GenerationResult beam_search(std::span<const TokenId> prompt);
};

namespace detail {
// Prompt lookup: up to max_tokens that followed the most recent earlier occurrence of the
// context's last 3 (else 2, else 1) tokens.
void lookup_draft(std::span<const TokenId> context, int max_tokens, std::vector<TokenId>& out);
}  // namespace detail

}  // namespace inkling
