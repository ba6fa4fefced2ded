#include "embed/inputs.hpp"

#include <utf8proc.h>

#include "inkling/error.hpp"

namespace inkling::detail {

void check_utf8(std::string_view text, const std::string& what) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  std::size_t i = 0;
  while (i < text.size()) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n =
        utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    if (n <= 0)
      throw Error(ErrorCode::InvalidArgument, what + " is not valid UTF-8 (byte " + std::to_string(i) + ")");
    i += static_cast<std::size_t>(n);
  }
}

void fit_to_context(std::vector<TokenId>& tokens, int limit, bool truncate, const Tokenizer& tokenizer,
                    const std::string& what) {
  if (tokens.empty())
    throw Error(ErrorCode::InvalidArgument, what + " has no tokens (an empty text for a model that adds no "
                                                   "special tokens)");
  if (static_cast<int>(tokens.size()) <= limit) return;
  if (!truncate)
    throw Error(ErrorCode::InvalidArgument, what + " has " + std::to_string(tokens.size()) +
                                                " tokens; the model's context is " + std::to_string(limit) +
                                                " (ask for truncation to cut it)");
  const TokenId last = tokens.back();
  const bool keep_last = limit > 1 && tokenizer.is_control(last);
  tokens.resize(static_cast<std::size_t>(limit - (keep_last ? 1 : 0)));
  if (keep_last) tokens.push_back(last);
}

std::string input_name(std::size_t index) { return "input " + std::to_string(index); }

}  // namespace inkling::detail
