// Byte-level BPE merging (REFERENCE.md §4.4): pieces from the pre-tokenizer are mapped
// byte by byte to printable code points (GPT-2's table), then adjacent symbols are
// merged lowest merge rank first, leftmost first on ties.
#include "tokenizer/bpe.hpp"

#include <array>
#include <cstdio>
#include <string>
#include <unordered_map>

#include "inkling/error.hpp"
#include "tokenizer/pair_merge.hpp"
#include "tokenizer/pre_tokenizer.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "tokenizer/unicode.hpp"

namespace inkling::detail {
namespace {

// GPT-2's reversible byte -> code point map: printable Latin-1 bytes map to themselves,
// the other 68 bytes to U+0100 onwards in increasing order.
struct ByteMap {
  std::array<char32_t, 256> to_cp{};
  std::unordered_map<char32_t, unsigned char> to_byte;
  ByteMap() {
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_cp[static_cast<std::size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
      to_byte[to_cp[static_cast<std::size_t>(b)]] = static_cast<unsigned char>(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

}  // namespace

struct BpeEncoder::Impl {
  const Vocab* vocab = nullptr;
  PreTokenizerSpec spec;
  std::unordered_map<std::string, int> ranks;  // "left right" -> merge rank

  int rank(std::string_view left, std::string_view right, std::string& key) const {
    key.assign(left);
    key += ' ';
    key += right;
    auto it = ranks.find(key);
    return it == ranks.end() ? -1 : it->second;
  }

  void merge_piece(const std::string& word, std::vector<TokenId>& out) const;
};

BpeEncoder::BpeEncoder(const Vocab& vocab, std::span<const std::string_view> merges, std::string_view pre)
    : impl_(std::make_unique<Impl>()) {
  impl_->vocab = &vocab;
  impl_->spec = pre_tokenizer_spec(pre);
  impl_->ranks.reserve(merges.size());
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const std::string_view m = merges[i];
    const std::size_t space = m.find(' ', 1);
    if (space == std::string_view::npos)
      throw Error(ErrorCode::Format, "tokenizer: merge #" + std::to_string(i) + " '" + std::string(m) +
                                         "' is not of the form 'left right'");
    impl_->ranks.emplace(std::string(m), static_cast<int>(i));
  }
}

BpeEncoder::~BpeEncoder() = default;

bool BpeEncoder::clean_spaces() const noexcept { return impl_->spec.clean_spaces; }
bool BpeEncoder::forces_add_bos() const noexcept { return impl_->spec.add_bos; }

void BpeEncoder::Impl::merge_piece(const std::string& word, std::vector<TokenId>& out) const {
  if (spec.ignore_merges) {
    if (TokenId id = vocab->find(word); id != kNoToken) {
      out.push_back(id);
      return;
    }
  }
  std::string key;
  merge_pairs(
      word,
      [&](std::string_view left, std::string_view right) -> std::optional<double> {
        const int rk = rank(left, right, key);  // lower ranks merge first
        if (rk < 0) return std::nullopt;
        return -static_cast<double>(rk);
      },
      [&](std::string_view s) {
        if (TokenId id = vocab->find(s); id != kNoToken) {
          out.push_back(id);
          return;
        }
        // Not in the vocabulary: fall back to its single characters (bytes without a
        // token are dropped, as llama.cpp does; every real byte-level vocab has all 256).
        for (std::size_t k = 0; k < s.size();) {
          const std::size_t len = std::min<std::size_t>(utf8_len(static_cast<unsigned char>(s[k])), s.size() - k);
          if (TokenId id = vocab->find(s.substr(k, len)); id != kNoToken) out.push_back(id);
          k += len;
        }
      });
}

void BpeEncoder::encode(std::string_view fragment, std::vector<TokenId>& out) const {
  const std::vector<char32_t> cps = unicode::decode_utf8(fragment);
  const ByteMap& bm = byte_map();
  std::string word;
  for (auto [b, e] : pre_tokenize(impl_->spec, cps)) {
    word.clear();
    for (unsigned char byte : unicode::encode_utf8(cps, b, e)) unicode::append_utf8(word, bm.to_cp[byte]);
    impl_->merge_piece(word, out);
  }
}

std::string BpeEncoder::decode_token_text(std::string_view text) {
  const ByteMap& bm = byte_map();
  std::string out;
  for (char32_t cp : unicode::decode_utf8(text)) {
    auto it = bm.to_byte.find(cp);
    if (it != bm.to_byte.end()) {
      out += static_cast<char>(it->second);
    } else {
      char buf[24];
      std::snprintf(buf, sizeof buf, "[UNK_BYTE_0x%X]", static_cast<unsigned>(cp));
      out += buf;
    }
  }
  return out;
}

}  // namespace inkling::detail
