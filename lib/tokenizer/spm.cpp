// SentencePiece-style BPE (tokenizer.ggml.model = "llama"), as llama.cpp runs it
// (REFERENCE.md §4.6): merge the adjacent pair whose joined text is the vocabulary entry
// with the highest score, leftmost first on ties, until no pair is in the vocabulary;
// characters left unmerged and absent from the vocabulary fall back to byte tokens.
#include <algorithm>
#include <cstdio>
#include <queue>
#include <string>

#include "inkling/error.hpp"
#include "tokenizer/tokenizer_impl.hpp"

namespace inkling::detail {
namespace {

struct Symbol {
  int prev, next;
  std::size_t start, len;  // bytes of the text
};

struct Candidate {
  int left, right;
  float score;
  std::size_t len;
  bool operator<(const Candidate& o) const {  // max-heap: higher score, then smaller left
    if (score != o.score) return score < o.score;
    return left > o.left;
  }
};

}  // namespace

void spm_encode(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) {
  std::vector<Symbol> sym;
  sym.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = std::min<std::size_t>(utf8_len(static_cast<unsigned char>(text[i])), text.size() - i);
    const int idx = static_cast<int>(sym.size());
    sym.push_back({idx - 1, idx + 1, i, len});
    i += len;
  }
  if (sym.empty()) return;
  sym.back().next = -1;

  std::priority_queue<Candidate> heap;
  auto try_pair = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const std::string_view joined = text.substr(sym[left].start, sym[left].len + sym[right].len);
    const TokenId id = vocab.find(joined);
    if (id == kNoToken) return;
    heap.push({left, right, vocab.tokens[static_cast<std::size_t>(id)].score, joined.size()});
  };
  for (int i = 0; i + 1 < static_cast<int>(sym.size()); ++i) try_pair(i, i + 1);

  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Symbol& l = sym[static_cast<std::size_t>(c.left)];
    Symbol& r = sym[static_cast<std::size_t>(c.right)];
    // Stale: one side was merged away or has grown since this pair was queued.
    if (l.len == 0 || r.len == 0 || l.len + r.len != c.len || l.next != c.right) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[static_cast<std::size_t>(r.next)].prev = c.left;
    try_pair(l.prev, c.left);
    try_pair(c.left, l.next);
  }

  for (int i = 0; i >= 0; i = sym[static_cast<std::size_t>(i)].next) {
    const Symbol& s = sym[static_cast<std::size_t>(i)];
    const std::string_view piece = text.substr(s.start, s.len);
    const TokenId id = vocab.find(piece);
    if (id != kNoToken) {
      out.push_back(id);
      continue;
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
  }
}

}  // namespace inkling::detail
