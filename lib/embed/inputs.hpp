// Turning caller texts into token sequences for embedding and reranking: UTF-8 checked,
// tokenized with the model's special tokens, fitted to the context.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inkling/tokenizer.hpp"

namespace inkling::detail {

// Error(InvalidArgument) "<what> is not valid UTF-8 (byte N)" for malformed text.
void check_utf8(std::string_view text, const std::string& what);

// Fits `tokens` into `limit` positions: unchanged when it fits, else cut when `truncate`
// (keeping a final special token such as [SEP] or EOS in place), else
// Error(InvalidArgument) naming `what`. Also refuses an empty sequence.
void fit_to_context(std::vector<TokenId>& tokens, int limit, bool truncate, const Tokenizer& tokenizer,
                    const std::string& what);

// "input 3" — how errors name the input at an index.
std::string input_name(std::size_t index);

}  // namespace inkling::detail
