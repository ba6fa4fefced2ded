// The compiled form of a GBNF grammar: flat arrays of elements, one run per alternative.
// Repetitions and groups are already rewritten into helper rules, so a matcher only ever
// sees three kinds of element: a character set, a reference to a rule, the end of an
// alternative.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace inkling::detail {

inline constexpr std::uint32_t kMaxCodePoint = 0x10FFFF;

struct CharRange {
  std::uint32_t lo, hi;  // inclusive
};

struct CharSet {
  std::vector<CharRange> ranges;  // sorted, disjoint, not adjacent
  std::array<std::uint64_t, 2> ascii{};  // the ranges below 128 as a bitmap (the common case)

  bool contains(std::uint32_t cp) const noexcept {
    if (cp < 128) return (ascii[cp >> 6] >> (cp & 63)) & 1;
    for (const CharRange& r : ranges)
      if (cp <= r.hi) return cp >= r.lo;
    return false;
  }
  bool intersects(std::uint32_t lo, std::uint32_t hi) const noexcept {
    for (const CharRange& r : ranges)
      if (r.lo <= hi && lo <= r.hi) return true;
    return false;
  }
  // Sorts and merges `raw` (any order, overlaps allowed); `negate` takes the complement
  // over [0, kMaxCodePoint].
  static CharSet make(std::vector<CharRange> raw, bool negate);
};

enum class ElemKind : std::uint8_t { Chars, Ref, End };

struct Elem {
  ElemKind kind;
  std::uint32_t value;  // Chars: index into sets; Ref: rule index; End: rule index
};

struct GrammarData {
  std::vector<Elem> elems;
  std::vector<CharSet> sets;
  std::vector<std::vector<std::uint32_t>> alts;  // per rule: first element of each alternative
  std::vector<std::string> names;                // per rule
  std::uint32_t root = 0;
};

// Parses GBNF text (see include/inkling/grammar.hpp) into GrammarData; throws GrammarError
// with the line and column of the first problem.
GrammarData parse_gbnf(std::string_view text, std::string_view root);

}  // namespace inkling::detail
