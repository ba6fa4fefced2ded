#include "generate/grammar_step.hpp"

#include <cmath>

#include "inkling/error.hpp"

namespace inkling {

std::shared_ptr<TokenMaskCache> grammar_mask_cache(const Model& model, Grammar grammar, std::span<const TokenId> stop_tokens,
                                                   bool eog) {
  const Tokenizer& tok = model.tokenizer();
  std::vector<TokenId> ends(stop_tokens.begin(), stop_tokens.end());
  if (eog)
    for (TokenId id = 0; id < tok.n_vocab(); ++id)
      if (tok.is_eog(id)) ends.push_back(id);
  return std::make_shared<TokenMaskCache>(std::move(grammar), std::make_shared<const GrammarVocab>(tok, ends));
}

namespace detail {

std::optional<TokenConstraint> make_constraint(const Model& model, const GenerationConfig& config) {
  if (!config.grammar) {
    if (config.grammar_cache)
      throw Error(ErrorCode::InvalidArgument, "generation: grammar_cache is set but grammar is not");
    return std::nullopt;
  }
  std::shared_ptr<TokenMaskCache> cache = config.grammar_cache;
  if (cache) {
    if (&cache->grammar().data() != &config.grammar->data())
      throw Error(ErrorCode::InvalidArgument, "generation: grammar_cache was built for another grammar");
    if (cache->vocab().n_vocab() != model.tokenizer().n_vocab())
      throw Error(ErrorCode::InvalidArgument, "generation: grammar_cache was built for a vocabulary of " +
                                                  std::to_string(cache->vocab().n_vocab()) + " tokens, the model has " +
                                                  std::to_string(model.tokenizer().n_vocab()));
  } else {
    cache = grammar_mask_cache(model, *config.grammar, config.stop_tokens, config.stop_at_eog);
  }
  return TokenConstraint(std::move(cache));
}

bool mask_logits(TokenConstraint& c, std::span<float> logits) { return c.apply(logits); }

void trim_draft(const TokenConstraint& c, std::vector<TokenId>& draft) {
  TokenConstraint walk = c;
  std::size_t keep = 0;
  while (keep < draft.size() && !walk.is_end_token(draft[keep]) && walk.is_allowed(draft[keep])) walk.accept(draft[keep++]);
  draft.resize(keep);
}

}  // namespace detail
}  // namespace inkling
