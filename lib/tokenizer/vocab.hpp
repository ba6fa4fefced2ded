// The vocabulary as read from tokenizer.ggml.*: shared by every tokenizer algorithm.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "inkling/tokenizer.hpp"

namespace inkling::detail {

struct VocabEntry {
  std::string text;        // as stored (SentencePiece "▁", GPT-2 byte-mapped, ...)
  float score = 0.0f;      // SPM merge priority
  std::uint32_t attr = kAttrNormal;  // TokenAttr bits
};

struct Vocab {
  std::vector<VocabEntry> tokens;
  std::unordered_map<std::string_view, TokenId> by_text;  // views into tokens[i].text

  // Call once after `tokens` is final (the map views the strings in place).
  void build_index() {
    by_text.clear();
    by_text.reserve(tokens.size());
    for (std::size_t i = 0; i < tokens.size(); ++i)
      by_text.emplace(tokens[i].text, static_cast<TokenId>(i));
  }
  TokenId find(std::string_view text) const noexcept {
    auto it = by_text.find(text);
    return it == by_text.end() ? kNoToken : it->second;
  }
  int size() const noexcept { return static_cast<int>(tokens.size()); }
};

}  // namespace inkling::detail
