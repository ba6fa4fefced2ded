// Tokenizer: text <-> token ids exactly as the model's own tokenizer (as llama.cpp
// implements it), built from a GGUF file's tokenizer.* metadata.
// Detokenizer: a streaming decoder that only ever emits complete UTF-8 characters.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inkling/types.hpp"

namespace inkling {

class GgufFile;

// Token attributes (bit flags), as GGUF token types map to them.
enum TokenAttr : std::uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1 << 0,
  kAttrUnused = 1 << 1,
  kAttrNormal = 1 << 2,
  kAttrControl = 1 << 3,
  kAttrUserDefined = 1 << 4,
  kAttrByte = 1 << 5,
  kAttrNormalized = 1 << 6,
  kAttrLstrip = 1 << 7,
  kAttrRstrip = 1 << 8,
  kAttrSingleWord = 1 << 9,
};

enum class TokenizerKind { Spm, Bpe, Wpm };

struct SpecialTokens {
  TokenId bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken, unk = kNoToken,
          sep = kNoToken, pad = kNoToken, cls = kNoToken, mask = kNoToken;
  bool add_bos = false;
  bool add_eos = false;
};

// Immutable after construction; safe to share between threads.
class Tokenizer {
 public:
  // Reads tokenizer.ggml.* from the file. Throws Error(Format) for missing/inconsistent
  // vocabulary data and Error(Unsupported) for an unknown model or pre-tokenizer name.
  explicit Tokenizer(const GgufFile& file);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  TokenizerKind kind() const noexcept;
  std::string_view pre_tokenizer() const noexcept;  // tokenizer.ggml.pre, "default" if absent
  int n_vocab() const noexcept;
  const SpecialTokens& special() const noexcept;
  // Whether decode() applies the BPE/WordPiece clean-up of spaces before punctuation
  // (" ?" -> "?", " 's" -> "'s", ...), which makes decode(encode(text)) differ from text.
  bool cleans_spaces() const noexcept;

  // add_special: add BOS/EOS as the vocabulary's metadata says.
  // parse_special: control tokens written in the text ("<|im_start|>") become their id;
  // without it they are plain text. Invalid UTF-8 bytes are tokenized as U+FFFD (BPE)
  // or as byte tokens (SPM), never rejected.
  std::vector<TokenId> encode(std::string_view text, bool add_special = true,
                              bool parse_special = false) const;

  // The text of one token as it appears in output: SentencePiece "▁" becomes a space,
  // byte tokens become their raw byte (possibly part of a UTF-8 character), control
  // tokens render only when `special` is true. Throws Error(InvalidArgument) for an
  // id outside [0, n_vocab).
  std::string token_to_piece(TokenId id, bool special = false) const;
  // ids -> text. remove_special drops a leading BOS / trailing EOS; the first token's
  // leading space is removed as llama.cpp does (SentencePiece rule).
  std::string decode(std::span<const TokenId> ids, bool remove_special = false,
                     bool special = false) const;

  std::string_view token_text(TokenId id) const;  // raw vocabulary entry
  std::uint32_t token_attr(TokenId id) const;
  float token_score(TokenId id) const;
  // End-of-generation: EOS, EOT, EOM and the tokens llama.cpp treats as such.
  bool is_eog(TokenId id) const noexcept;
  bool is_control(TokenId id) const noexcept;
  // Exact vocabulary look-up; kNoToken if absent.
  TokenId find(std::string_view text) const noexcept;

  struct Impl;

 private:
  friend class Detokenizer;
  std::unique_ptr<Impl> impl_;
};

// Streaming decode: push one token at a time, get back only complete UTF-8 characters.
// A character split across tokens is held back until complete; bytes that can never
// form a valid character become U+FFFD. Concatenating every push() and the final
// flush() equals Tokenizer::decode of the whole sequence. One thread at a time.
class Detokenizer {
 public:
  // strip_leading_space: drop the SentencePiece space prefix of the first token, as
  // decode() does for a whole text; pass false when continuing after a prompt.
  explicit Detokenizer(const Tokenizer& tokenizer, bool special = false,
                       bool strip_leading_space = true);
  std::string push(TokenId id);
  std::string flush();  // emits what is held back (incomplete tail -> U+FFFD)
  void reset();

 private:
  const Tokenizer* tokenizer_;
  bool special_;
  bool strip_;
  bool first_ = true;
  std::string raw_;      // decoded bytes a clean-up pattern may still change
  std::string pending_;  // bytes of an incomplete UTF-8 character
};

}  // namespace inkling
