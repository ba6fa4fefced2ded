// The Unicode facts the tokenizers need: UTF-8 decoding with llama.cpp's rule for
// invalid bytes, and general categories / case mapping from utf8proc (Debian's
// libutf8proc, a well-kept implementation of the Unicode tables: we do not carry our
// own copy of them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace inkling::unicode {

// Decodes UTF-8; each invalid or truncated sequence start becomes U+FFFD and decoding
// resumes at the next byte.
std::vector<char32_t> decode_utf8(std::string_view text);
void append_utf8(std::string& out, char32_t cp);
std::string encode_utf8(const std::vector<char32_t>& cps, std::size_t begin, std::size_t end);

enum Flag : std::uint32_t {
  kLetter = 1,        // L*
  kNumber = 2,        // N*
  kPunctuation = 4,   // P*
  kSymbol = 8,        // S*
  kMark = 16,         // M*
  kSeparator = 32,    // Z*
  kControl = 64,      // C*
  kWhitespace = 128,  // Unicode White_Space property
};

std::uint32_t flags(char32_t cp) noexcept;
inline bool is_letter(char32_t c) noexcept { return flags(c) & kLetter; }
inline bool is_number(char32_t c) noexcept { return flags(c) & kNumber; }
inline bool is_whitespace(char32_t c) noexcept { return flags(c) & kWhitespace; }
char32_t to_lower(char32_t cp) noexcept;
// The first code point of the canonical decomposition (accents stripped), as the
// WordPiece normaliser uses it.
char32_t strip_accents(char32_t cp) noexcept;
// A precomposed Hangul syllable (U+AC00..U+D7A3) as its canonical decomposition, the
// leading consonant, vowel and optional trailing consonant jamo (Unicode 3.12, computed,
// not tabled); writes 2 or 3 code points to out and returns how many, or 0 for any other
// code point.
int decompose_hangul(char32_t cp, char32_t out[3]) noexcept;

}  // namespace inkling::unicode
