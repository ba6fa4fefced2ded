// Prefix reuse, one rule for every generator: the cache keeps the positions whose tokens
// equal what it already holds (a system prompt, the conversation so far) and only the
// rest is computed. The last token of the new input is always recomputed, because its
// logits are needed and the cache stores K/V, not logits.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

#include "inkling/types.hpp"

namespace inkling::detail {

// How many leading tokens of `input` can be kept from `cached`: the length of their
// common prefix, at most input.size() - 1 (0 for an empty input).
inline std::size_t reusable_prefix(std::span<const TokenId> cached, std::span<const TokenId> input) noexcept {
  const std::size_t limit = input.empty() ? 0 : std::min(cached.size(), input.size() - 1);
  std::size_t n = 0;
  while (n < limit && cached[n] == input[n]) ++n;
  return n;
}

}  // namespace inkling::detail
