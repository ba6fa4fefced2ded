// SentencePiece-style BPE (tokenizer.ggml.model = "llama"), as llama.cpp runs it
// (REFERENCE.md §4.6): merge the adjacent pair whose joined text is the vocabulary entry
// with the highest score, leftmost first on ties, until no pair is in the vocabulary;
// characters left unmerged and absent from the vocabulary fall back to byte tokens.
#include <algorithm>
#include <cstdio>
#include <string>

#include "inkling/error.hpp"
#include "tokenizer/pair_merge.hpp"
#include "tokenizer/tokenizer_impl.hpp"

namespace inkling::detail {
void spm_encode(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) {
  merge_pairs(
      text,
      [&](std::string_view left, std::string_view right) -> std::optional<double> {
        // The joined text must be a vocabulary entry; its score is the priority.
        const TokenId id = vocab.find(std::string_view(left.data(), left.size() + right.size()));
        if (id == kNoToken) return std::nullopt;
        return vocab.tokens[static_cast<std::size_t>(id)].score;
      },
      [&](std::string_view piece) {
        if (const TokenId id = vocab.find(piece); id != kNoToken) {
          out.push_back(id);
          return;
        }
        for (unsigned char byte : piece) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "<0x%02X>", byte);
          TokenId b = vocab.find(hex);
          if (b == kNoToken) b = vocab.find(std::string_view(reinterpret_cast<const char*>(&byte), 1));
          if (b == kNoToken)
            throw Error(ErrorCode::InvalidArgument,
                        std::string("tokenizer: byte ") + hex + " has no token in this vocabulary");
          out.push_back(b);
        }
      });
}

}  // namespace inkling::detail
