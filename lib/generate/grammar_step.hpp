// The grammar's part in decoding: building a sequence's TokenConstraint from the
// generation config, and masking a logits row with it.
#pragma once

#include <optional>
#include <span>

#include "inkling/generator.hpp"
#include "inkling/grammar.hpp"

namespace inkling::detail {

// The constraint for a new sequence, or nullopt when the config has no grammar.
// Error(InvalidArgument) if config.grammar_cache was built for another grammar or
// vocabulary size.
std::optional<TokenConstraint> make_constraint(const Model& model, const GenerationConfig& config);

// Sets every logit the grammar forbids to -inf. Returns false if no token is left.
bool mask_logits(TokenConstraint& c, std::span<float> logits);

// The longest prefix of `draft` the grammar allows after the constraint's state.
void trim_draft(const TokenConstraint& c, std::vector<TokenId>& draft);

}  // namespace inkling::detail
