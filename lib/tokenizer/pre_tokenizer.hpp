// Byte-level BPE pre-tokenizers: the text is split by a list of regular expressions
// before merging (REFERENCE.md §4.4-4.5). Each regex is a small hand-written matcher
// over code points that reproduces what llama.cpp's evaluation of it yields, including
// its category quirks; no std::regex.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#pragma once

namespace inkling::detail {

// Length of the match of one regex at `pos` of the piece [0, end), or 0 for none.
using Matcher = std::size_t (*)(const char32_t* text, std::size_t pos, std::size_t end);

struct PreTokenizerSpec {
  std::vector<Matcher> stages;
  bool clean_spaces = true;
  bool ignore_merges = false;
  bool add_bos = false;
};

// The spec for a tokenizer.ggml.pre value; Error(Unsupported) for an unknown name.
PreTokenizerSpec pre_tokenizer_spec(std::string_view name);

// Splits text into pieces: each stage re-splits every piece into its matches and the
// gaps between them. Returns piece boundaries as code point offsets into `cps`.
std::vector<std::pair<std::size_t, std::size_t>> pre_tokenize(const PreTokenizerSpec& spec,
                                                              const std::vector<char32_t>& cps);

}  // namespace inkling::detail
