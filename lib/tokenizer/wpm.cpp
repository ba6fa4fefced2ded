// WordPiece (tokenizer.ggml.model = "bert"), as llama.cpp runs it (REFERENCE.md §4.8):
// lower-cased, accent-stripped words split at whitespace and punctuation, each matched
// greedily longest-first against "▁word" pieces; a word that cannot be covered is [UNK].
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

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (char32_t cp : unicode::decode_utf8(text)) {
    // llama.cpp's "NFD" keeps the first codepoint of each decomposition: accents go, and
    // a Hangul syllable becomes its leading consonant jamo (its table is built over every
    // codepoint, the algorithmically decomposed Hangul block included).
    cp = unicode::strip_accents(cp);
    const std::uint32_t f = unicode::flags(cp);
    if (f & unicode::kWhitespace) {
      flush();
      continue;
    }
    if (cp == 0 || cp == 0xFFFD || (f & unicode::kControl)) continue;
    std::string s;
    unicode::append_utf8(s, unicode::to_lower(cp));
    if ((f & unicode::kPunctuation) || (cp < 0x7F && (f & unicode::kSymbol)) || is_cjk_ideograph(cp)) {
      flush();
      words.push_back(std::move(s));
    } else {
      word += s;
    }
  }
  flush();
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
