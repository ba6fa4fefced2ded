// Tokenizer internals shared by the algorithm files.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "inkling/tokenizer.hpp"
#include "tokenizer/bpe.hpp"
#include "tokenizer/vocab.hpp"

namespace inkling {

struct Tokenizer::Impl {
  TokenizerKind kind = TokenizerKind::Spm;
  std::string pre = "default";
  detail::Vocab vocab;
  SpecialTokens special;
  bool add_space_prefix = true;
  bool clean_spaces = false;
  std::vector<TokenId> eog;                // end-of-generation ids
  std::vector<TokenId> special_by_length;  // control/user-defined/unknown, longest text first
  std::unique_ptr<detail::BpeEncoder> bpe;
  int max_token_bytes = 0;

  // One raw-text fragment -> ids (special tokens already split out). `first` and
  // `after_special` drive the SentencePiece space prefix.
  void encode_fragment(std::string_view text, bool after_special_or_first, std::vector<TokenId>& out) const;
  std::string piece(TokenId id, bool special) const;
};

namespace detail {
void spm_encode(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out);
void wpm_encode(const Vocab& vocab, TokenId unk, std::size_t max_token_bytes, std::string_view text,
                std::vector<TokenId>& out);
// The byte length of the UTF-8 sequence starting with `lead` (1 for stray bytes).
inline int utf8_len(unsigned char lead) noexcept {
  static constexpr int kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}
}  // namespace detail

}  // namespace inkling
