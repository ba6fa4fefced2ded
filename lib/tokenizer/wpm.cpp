// WordPiece (tokenizer.ggml.model = "bert"), as llama.cpp runs it (REFERENCE.md §4.8):
// lower-cased, accent-stripped words split at whitespace and punctuation, each matched
// greedily longest-first against "▁word" pieces; a word that cannot be covered is [UNK].
// One difference, towards BERT's own tokenizer: Hangul syllables decompose into all their
// jamo (see split_words).
#include <algorithm>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_impl.hpp"
#include "tokenizer/unicode.hpp"

namespace inkling::detail {
namespace {

bool is_cjk_ideograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// One normalised code point into the words: whitespace ends a word, punctuation and CJK
// ideographs are words of their own, control characters vanish.
void add_code_point(char32_t cp, std::string& word, std::vector<std::string>& words) {
  auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  const std::uint32_t f = unicode::flags(cp);
  if (f & unicode::kWhitespace) {
    flush();
    return;
  }
  if (cp == 0 || cp == 0xFFFD || (f & unicode::kControl)) return;
  std::string s;
  unicode::append_utf8(s, unicode::to_lower(cp));
  if ((f & unicode::kPunctuation) || (cp < 0x7F && (f & unicode::kSymbol)) || is_cjk_ideograph(cp)) {
    flush();
    words.push_back(std::move(s));
  } else {
    word += s;
  }
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char32_t cp : unicode::decode_utf8(text)) {
    // NFD, as BERT's basic tokenizer normalises: a Hangul syllable becomes all of its
    // jamo (L, V and an optional T), which BERT vocabularies hold as pieces, so 한국어
    // is ᄒ ᅡ ᆫ ᄀ ᅮ ᆨ ᄋ ᅥ rather than [UNK]. (llama.cpp keeps only the leading jamo: its
    // NFD table maps each code point to the first of its decomposition.) Other code
    // points keep the first of theirs: the accents BERT strips go.
    char32_t jamo[3];
    if (const int n = unicode::decompose_hangul(cp, jamo); n > 0) {
      for (int i = 0; i < n; ++i) add_code_point(jamo[i], word, words);
      continue;
    }
    add_code_point(unicode::strip_accents(cp), word, words);
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

}  // namespace

void wpm_encode(const Vocab& vocab, TokenId unk, std::size_t max_len, std::string_view text,
                std::vector<TokenId>& out) {
  for (const std::string& w : split_words(text)) {
    const std::string word = "\xE2\x96\x81" + w;
    const std::size_t n = word.size(), start = out.size();
    for (std::size_t i = 0; i < n;) {
      bool matched = false;
      for (std::size_t j = std::min(n, i + max_len + 1); j > i; --j) {
        const TokenId id = vocab.find(std::string_view(word).substr(i, j - i));
        if (id != kNoToken) {
          out.push_back(id);
          i = j;
          matched = true;
          break;
        }
      }
      if (!matched) {
        out.resize(start);
        break;
      }
    }
    if (out.size() == start && unk != kNoToken) out.push_back(unk);
  }
}

}  // namespace inkling::detail
