// DRY ("don't repeat yourself"), as llama.cpp defines it: a token that would continue a
// sequence already seen in the window is penalised, exponentially in the length of the
// repeat it would extend, once that length reaches the allowed length.
#include <algorithm>
#include <cmath>

#include "sampling/steps.hpp"

namespace inkling::sampling {
namespace {

bool is_breaker(std::span<const TokenId> breakers, TokenId id) {
  return std::binary_search(breakers.begin(), breakers.end(), id);
}

}  // namespace

void apply_dry(CandidateSet& set, std::span<const TokenId> history, const DryParams& p, std::span<const TokenId> breakers,
               DryScratch& scratch) {
  if (p.multiplier == 0 || p.base < 1 || p.last_n == 0) return;
  const std::size_t n = p.last_n < 0 ? history.size() : std::min(history.size(), static_cast<std::size_t>(p.last_n));
  const auto w = history.subspan(history.size() - n);
  if (n <= static_cast<std::size_t>(p.allowed_length)) return;
  // A repeat cannot reach back across the most recent breaker.
  std::size_t limit = n;
  for (std::size_t i = 0; i < n; ++i)
    if (is_breaker(breakers, w[n - 1 - i])) {
      limit = i;
      break;
    }
  if (limit < static_cast<std::size_t>(p.allowed_length)) return;

  const std::size_t vocab = set.vocab_size();
  if (scratch.repeat.size() != vocab) scratch.repeat.assign(vocab, 0);
  // For each earlier position i: how many tokens ending at i equal the window's last
  // tokens. The token after i would extend that repeat by one.
  for (std::size_t i = 0; i + 1 < n; ++i) {
    std::size_t len = 0;
    while (len < limit && len <= i && w[i - len] == w[n - 1 - len]) ++len;
    if (len < static_cast<std::size_t>(p.allowed_length)) continue;
    const TokenId next = w[i + 1];
    if (next < 0 || static_cast<std::size_t>(next) >= vocab) continue;
    int& best = scratch.repeat[static_cast<std::size_t>(next)];
    if (best == 0) scratch.touched.push_back(next);
    best = std::max(best, static_cast<int>(len));
  }
  if (scratch.touched.empty()) return;
  // base^exponent must stay finite in float.
  const int max_exponent = p.base > 1.000001f ? static_cast<int>(88.7228391f / std::log(p.base)) : 0;
  for (Candidate& c : set.items()) {
    if (c.logit == -INFINITY) continue;
    const int len = scratch.repeat[static_cast<std::size_t>(c.id)];
    if (len == 0 || is_breaker(breakers, c.id)) continue;
    int exponent = len - p.allowed_length;
    if (max_exponent > 0) exponent = std::min(exponent, max_exponent);
    c.logit -= p.multiplier * std::pow(p.base, static_cast<float>(exponent));
  }
  for (TokenId id : scratch.touched) scratch.repeat[static_cast<std::size_t>(id)] = 0;
  scratch.touched.clear();
  set.logits_changed();
}

}  // namespace inkling::sampling
