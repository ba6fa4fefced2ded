// Byte-level BPE (tokenizer.ggml.model = "gpt2"): pre-tokenizer splitting chosen by
// tokenizer.ggml.pre, GPT-2 byte-to-unicode mapping, merges by rank.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.hpp"

namespace inkling::detail {

class BpeEncoder {
 public:
  // `merges` are tokenizer.ggml.merges ("left right"), rank = index. `pre` is
  // tokenizer.ggml.pre ("default" when absent); Error(Unsupported) for an unknown name.
  BpeEncoder(const Vocab& vocab, std::span<const std::string_view> merges, std::string_view pre);
  ~BpeEncoder();

  // Encodes one raw-text fragment (special tokens already split out); appends ids.
  void encode(std::string_view fragment, std::vector<TokenId>& out) const;

  // Per-pre-tokenizer flags (REFERENCE.md §4.4).
  bool clean_spaces() const noexcept;
  bool forces_add_bos() const noexcept;

  // Maps a byte-level token text back to raw bytes (Ġ -> ' ').
  static std::string decode_token_text(std::string_view text);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace inkling::detail
