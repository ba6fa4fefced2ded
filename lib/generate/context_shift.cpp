#include "generate/context_shift.hpp"

#include <algorithm>
#include <string>

#include "inkling/error.hpp"
#include "inkling/tokenizer.hpp"

namespace inkling::detail {

ContextShift plan_shift(const GenerationConfig& c, const Tokenizer& tok, std::span<const TokenId> tokens, int prompt_tokens) {
  const int n = static_cast<int>(tokens.size());
  const SpecialTokens& sp = tok.special();
  const int bos = !tokens.empty() && sp.bos != kNoToken && tokens[0] == sp.bos ? 1 : 0;
  int keep = c.n_keep < 0 ? prompt_tokens : c.n_keep + bos;  // llama.cpp: n_keep does not count the BOS
  keep = std::min(keep, n);
  const int discard = (n - keep) / 2;
  if (discard < 1)
    throw Error(ErrorCode::ContextFull, "generation: the context of " + std::to_string(n) + " positions is full and n_keep = " +
                                            std::to_string(c.n_keep) + " leaves nothing to drop");
  return {keep, discard};
}

void apply_shift(KVCache& cache, int seq, std::vector<TokenId>& tokens, const ContextShift& s) {
  cache.remove(seq, s.keep, s.keep + s.discard);
  tokens.erase(tokens.begin() + s.keep, tokens.begin() + s.keep + s.discard);
}

}  // namespace inkling::detail
