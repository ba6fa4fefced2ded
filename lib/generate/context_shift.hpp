// Context shift (ContextFullPolicy::Shift), one rule for Generator and BatchGenerator:
// when the cache is full, keep the first n_keep tokens (and a leading BOS), drop the
// oldest half of the rest, and move the others down with their keys re-rotated
// (KVCache::remove), as llama.cpp's context shift does.
#pragma once

#include <span>
#include <vector>

#include "inkling/generator.hpp"
#include "inkling/kv_cache.hpp"

namespace inkling::detail {

struct ContextShift {
  int keep = 0;     // positions [0, keep) stay
  int discard = 0;  // positions [keep, keep + discard) go
};

// For a sequence holding `tokens` (position i = tokens[i]) after a prompt of
// prompt_tokens. Error(ContextFull) when n_keep leaves nothing to drop.
ContextShift plan_shift(const GenerationConfig& config, const Tokenizer& tok, std::span<const TokenId> tokens,
                        int prompt_tokens);
// Drops the planned positions from `seq` of the cache and from `tokens`.
void apply_shift(KVCache& cache, int seq, std::vector<TokenId>& tokens, const ContextShift& shift);

}  // namespace inkling::detail
