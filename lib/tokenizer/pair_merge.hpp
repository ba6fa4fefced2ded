// The merge loop shared by SentencePiece and byte-level BPE: the text starts as one
// symbol per UTF-8 character, and the adjacent pair with the highest priority (leftmost
// on ties) is merged until no pair has one. A heap over a linked list of symbols keeps
// it O(n log n); entries made stale by earlier merges are skipped.
#pragma once

#include <optional>
#include <queue>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer_impl.hpp"

namespace inkling::detail {

// priority(left, right) -> std::optional<double>: nullopt when the pair may not merge.
// emit(piece) is called for each final symbol, left to right.
template <typename Priority, typename Emit>
void merge_pairs(std::string_view text, Priority&& priority, Emit&& emit) {
  struct Symbol {
    int prev, next;
    std::size_t start, len;
  };
  struct Candidate {
    int left, right;
    double priority;
    std::size_t len;
    bool operator<(const Candidate& o) const {  // max-heap: higher priority, then smaller left
      if (priority != o.priority) return priority < o.priority;
      return left > o.left;
    }
  };
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

  auto view = [&](int i) { return text.substr(sym[static_cast<std::size_t>(i)].start, sym[static_cast<std::size_t>(i)].len); };
  std::priority_queue<Candidate> heap;
  auto try_pair = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    if (const std::optional<double> p = priority(view(left), view(right)))
      heap.push({left, right, *p, sym[static_cast<std::size_t>(left)].len + sym[static_cast<std::size_t>(right)].len});
  };
  for (int i = 0; i + 1 < static_cast<int>(sym.size()); ++i) try_pair(i, i + 1);

  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Symbol& l = sym[static_cast<std::size_t>(c.left)];
    Symbol& r = sym[static_cast<std::size_t>(c.right)];
    // Stale: one side was merged away or has grown since this pair was queued.
    if (l.len == 0 || r.len == 0 || l.next != c.right || l.len + r.len != c.len) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[static_cast<std::size_t>(r.next)].prev = c.left;
    try_pair(l.prev, c.left);
    try_pair(c.left, l.next);
  }
  for (int i = 0; i >= 0; i = sym[static_cast<std::size_t>(i)].next) emit(view(i));
}

}  // namespace inkling::detail
